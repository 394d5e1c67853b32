"""Reading and matching many files on several processes, with the result of one process.

The files are cut into runs that shrink towards the end (each a quarter of a process's share of what
is left); processes take the next run as they finish one (`workers.forks`), so a process that met a
big file does fewer runs and the processes finish within a file of each other. A run comes back as
one small `ItemOutcome` per file, and the outcomes are put back into source order before `summarise`,
so findings, locations and their order are exactly those of `scan_items`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import closing
from functools import partial
from typing import Generic, NamedTuple, TypeVar

from leakscan.errors import LeakscanError
from leakscan.model import Blob, ScanResult, Skipped
from leakscan.scan.content import ItemOutcome, scan_item, summarise
from leakscan.settings import Settings
from leakscan.workers import Job, Lost, available_cpus
from leakscan.workers.forks import MAX_TASKS, ForkExecutor

E = TypeVar("E")

MIN_ITEMS = 128  # fewer files than this: one process (a fork and its pipe cost a few ms)
MIN_ITEMS_PER_WORKER = 64
RUN_SHARE = 4  # a run is this fraction of one process's share of the files left
MAX_RUNS = MAX_TASKS


class Files(NamedTuple, Generic[E]):
    """What every process needs: forked processes inherit it, so nothing of it is pickled."""

    settings: Settings
    entries: Sequence[E | Skipped]
    read: Callable[[E], Blob | Skipped]


def worker_count(items: int, cpus: int | None = None) -> int:
    """How many processes a scan of `items` files should use (1: stay in this process)."""
    available = cpus if cpus is not None else available_cpus()
    if items < MIN_ITEMS:
        return 1
    return max(1, min(available, items // MIN_ITEMS_PER_WORKER))


def scan_parallel(
    settings: Settings,
    entries: Sequence[E | Skipped],
    read: Callable[[E], Blob | Skipped],
    *,
    target: str,
    mode: str,
    workers: int,
) -> ScanResult:
    """`scan_items(settings, (read(e) for e in entries), ...)`, in `workers` processes."""
    started = time.monotonic()
    runs = _runs(entries, workers)
    done: dict[int, list[ItemOutcome]] = {}
    executor = ForkExecutor(Job(_scan_run, Files(settings, entries, read)), workers)
    with closing(executor):
        for run in runs:
            executor.submit(run)
        for _ in runs:
            run, outcomes = executor.next_done()
            if isinstance(outcomes, Lost):
                raise LeakscanError(
                    f"{outcomes.reason}; the scan did not finish. "
                    "Try again with --jobs 1, or report it with the command you ran."
                )
            done[run.start] = outcomes
    ordered = [outcome for start in sorted(done) for outcome in done[start]]
    return summarise(settings, ordered, target=target, mode=mode, started=started)


def _runs(entries: Sequence[object], workers: int) -> list[range]:
    """Consecutive runs of `entries` (their indexes), shrinking to single files: with `n` left, the
    next run takes `n // (workers * RUN_SHARE)` (48 runs for sqlalchemy's 929 files on two
    processes). No run is shorter than `len(entries) / MAX_RUNS` files, so there are never more than
    MAX_RUNS. One process: one run."""
    if workers <= 1:
        return [range(len(entries))] if entries else []
    least = -(-len(entries) // MAX_RUNS)
    runs, start = [], 0
    while start < len(entries):
        size = max(least, (len(entries) - start) // (workers * RUN_SHARE))
        runs.append(range(start, min(start + size, len(entries))))
        start += size
    return runs


def _scan_run(files: Files[E], run: range) -> list[ItemOutcome]:
    settings, entries, read = files
    return [
        scan_item(settings, e if isinstance(e, Skipped) else read(e))
        for e in entries[run.start : run.stop]
    ]


def bound(read: Callable[..., Blob | Skipped], **kwargs: object) -> Callable[[E], Blob | Skipped]:
    """The reader with its options fixed."""
    return partial(read, **kwargs)
