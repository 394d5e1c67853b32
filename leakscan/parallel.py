"""Spread the reading and matching of many files over worker processes; same result as one process.

Work is dealt round-robin into one part per worker (neighbouring files often have similar sizes), each
worker reads and scans its part and sends back one small `ItemOutcome` per file, and the outcomes are put
back into source order before `summarise`, so findings, locations and their order are exactly those of
`scan_items`. Workers are forked (POSIX; elsewhere the scan stays in one process): they start with the
rules already compiled and the file list in memory, and only their outcomes cross a pipe.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from functools import partial

from leakscan.errors import LeakscanError
from leakscan.model import Blob, ScanResult, Skipped
from leakscan.record import TYPE_CHECKING
from leakscan.scan import ItemOutcome, Settings, scan_item, summarise

if TYPE_CHECKING:
    from typing import TypeVar

    E = TypeVar("E")

MIN_ITEMS = 128  # fewer files than this: one process (a fork and its pipe cost a few ms)
MIN_ITEMS_PER_WORKER = 64


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
    parts = [list(entries[i::workers]) for i in range(workers)]
    results = _in_forks(settings, read, parts)
    ordered = [results[i % workers][i // workers] for i in range(len(entries))]
    return summarise(settings, ordered, target=target, mode=mode, started=started)


def _in_forks(
    settings: Settings, read: Callable[[E], Blob | Skipped], parts: list[list[E | Skipped]]
) -> list[list[ItemOutcome]]:
    """Part 0 in this process, each other part in a forked child that pipes back its pickled outcomes.

    A bare fork, not a process pool: the children start with the rules compiled and the file list in
    memory, nothing is pickled on the way in, and no `multiprocessing` import (~25 ms) or pool
    machinery is paid. A child blocks on its pipe until this process, done with its own part, reads.
    """
    try:  # the C pickler alone: `pickle` itself adds ~1.5 ms of import
        from _pickle import dumps, loads
    except ImportError:  # pragma: no cover - Pythons without it
        from pickle import dumps, loads

    children = []
    try:
        for part in parts[1:]:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
                code = 1
                try:
                    os.close(r)
                    outcomes = [_outcome(settings, read, e) for e in part]
                    with os.fdopen(w, "wb") as pipe:
                        pipe.write(dumps(outcomes, -1))  # -1: the highest protocol
                    code = 0
                finally:
                    os._exit(code)
            os.close(w)
            children.append((pid, r))
        results = [[_outcome(settings, read, e) for e in parts[0]]]
        for pid, r in children:
            with os.fdopen(r, "rb") as pipe:
                payload = pipe.read()
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise LeakscanError(
                    f"a worker process failed (status {status}); the scan did not finish. "
                    "Try again with --jobs 1, or report it with the command you ran."
                )
            results.append(loads(payload))
        children = []
        return results
    finally:
        for pid, _r in children:  # interrupted: do not leave children behind
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass


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
