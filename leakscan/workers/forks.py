"""Spread the reading and matching of many files over worker processes; same result as one process.

The files are cut into runs that shrink towards the end (each a quarter of a process's share of what
is left), and each process takes the next run as it finishes one (the run numbers wait in a pipe;
reading one is atomic), so a process that met a big file does fewer runs and the processes finish
within a file of each other. Each sends back one small `ItemOutcome` per file, and the outcomes are
put back into source order before `summarise`, so findings, locations and their order are exactly
those of `scan_items`. Workers are forked (POSIX; elsewhere the scan stays in one process): they
start with the rules already compiled and the file list in memory, and only their outcomes cross a
pipe."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from leakscan.errors import LeakscanError
from leakscan.model import Blob, ScanResult, Skipped
from leakscan.scan.content import ItemOutcome, scan_item, summarise
from leakscan.settings import Settings

if TYPE_CHECKING:
    from typing import TypeVar

    E = TypeVar("E")

MIN_ITEMS = 128  # fewer files than this: one process (a fork and its pipe cost a few ms)
MIN_ITEMS_PER_WORKER = 64
RUN_SHARE = 4  # a run is this fraction of one process's share of the files left
MAX_RUNS = 1024  # run numbers (4 bytes each) are written before any read: one page, a pipe's least


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
    if workers <= 1 or not hasattr(os, "fork"):
        outcomes = [_outcome(settings, read, e) for e in entries]
        return summarise(settings, outcomes, target=target, mode=mode, started=started)
    runs = _runs(entries, workers)
    done: list[list[ItemOutcome]] = [[] for _ in runs]
    for number, outcomes in _in_forks(settings, read, runs, workers):
        done[number] = outcomes
    ordered = [outcome for outcomes in done for outcome in outcomes]
    return summarise(settings, ordered, target=target, mode=mode, started=started)


def _runs(entries: Sequence[E], workers: int) -> list[Sequence[E]]:
    """Consecutive runs of `entries`, shrinking to single files: with `n` left, the next run takes
    `n // (workers * RUN_SHARE)` (48 runs for sqlalchemy's 929 files on two processes). No run is
    shorter than `len(entries) / MAX_RUNS` files, so there are never more than MAX_RUNS."""
    least = -(-len(entries) // MAX_RUNS)
    runs, start = [], 0
    while start < len(entries):
        size = max(least, (len(entries) - start) // (workers * RUN_SHARE))
        runs.append(entries[start : start + size])
        start += size
    return runs


def _in_forks(
    settings: Settings,
    read: Callable[[E], Blob | Skipped],
    runs: list[Sequence[E | Skipped]],
    workers: int,
) -> list[tuple[int, list[ItemOutcome]]]:
    """(run number, outcomes) of every run, scanned by this process and `workers - 1` forked
    children that pipe back their pickled outcomes.

    A bare fork, not a process pool: the children start with the rules compiled and the file list in
    memory, nothing is pickled on the way in, and no `multiprocessing` import (~25 ms) or pool
    machinery is paid. A child blocks on its pipe until this process, done with its runs, reads.
    """
    try:  # the C pickler alone: `pickle` itself adds ~1.5 ms of import
        from _pickle import dumps, loads
    except ImportError:  # pragma: no cover - Pythons without it
        from pickle import dumps, loads

    queue, fill = os.pipe()
    numbers = b"".join(n.to_bytes(4, "little") for n in range(len(runs)))
    written = os.write(fill, numbers)  # at most one page: it fits any pipe, and is written whole
    os.close(fill)  # the queue ends (reads return b"") once every number is taken
    assert written == len(numbers)
    children: list[tuple[int, int]] = []  # (pid, read end), -1 once waited for / closed
    try:
        for _ in range(workers - 1):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
                code = 1
                try:
                    os.close(r)
                    taken = _take_runs(settings, read, runs, queue)
                    with os.fdopen(w, "wb") as pipe:
                        pipe.write(dumps(taken, -1))  # -1: the highest protocol
                    code = 0
                finally:
                    os._exit(code)
            os.close(w)
            children.append((pid, r))
        results = _take_runs(settings, read, runs, queue)
        for i, (pid, r) in enumerate(children):
            with os.fdopen(r, "rb") as pipe:
                payload = pipe.read()
            children[i] = (pid, -1)
            _, status = os.waitpid(pid, 0)
            children[i] = (-1, -1)
            if status != 0:
                raise LeakscanError(
                    f"a worker process failed (status {status}); the scan did not finish. "
                    "Try again with --jobs 1, or report it with the command you ran."
                )
            results += loads(payload)
        return results
    finally:
        os.close(queue)
        for pid, r in children:  # interrupted, or a worker failed: leave no child or pipe behind
            if r >= 0:
                os.close(r)
            if pid > 0:
                try:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                except OSError:
                    pass


def _take_runs(
    settings: Settings,
    read: Callable[[E], Blob | Skipped],
    runs: list[Sequence[E | Skipped]],
    queue: int,
) -> list[tuple[int, list[ItemOutcome]]]:
    """Scan the next run from the queue until it is empty; a 4-byte read from a pipe is atomic."""
    taken = []
    while number := os.read(queue, 4):
        n = int.from_bytes(number, "little")
        taken.append((n, [_outcome(settings, read, e) for e in runs[n]]))
    return taken


def _outcome(
    settings: Settings, read: Callable[[E], Blob | Skipped], entry: E | Skipped
) -> ItemOutcome:
    item = entry if isinstance(entry, Skipped) else read(entry)
    return scan_item(settings, item)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity), not all the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def bound(read: Callable[..., Blob | Skipped], **kwargs: object) -> Callable[[E], Blob | Skipped]:
    """A picklable reader with its options fixed (for platforms that spawn instead of fork)."""
    return partial(read, **kwargs)
