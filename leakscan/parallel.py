"""Spread the reading and matching of many files over worker processes; same result as one process.

Work is dealt round-robin into one part per worker (neighbouring files often have similar sizes), each
worker reads and scans its part and sends back one small `ItemOutcome` per file, and the outcomes are put
back into source order before `summarise`, so findings, locations and their order are exactly those of
`scan_items`. Workers are forked where the platform allows it: they start with the rules already compiled
and nothing but file names crosses the pipe on the way in.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from leakscan.errors import LeakscanError
from leakscan.model import Blob, ScanResult, Skipped
from leakscan.scan import ItemOutcome, Settings, scan_item, summarise

MIN_ITEMS = 512  # fewer files than this: one process (a fork and its pipes cost ~10-20 ms)
MIN_ITEMS_PER_WORKER = 256

E = TypeVar("E")

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


def worker_count(items: int, cpus: int | None = None) -> int:
    """How many processes a scan of `items` files should use (1: stay in this process)."""
    available = cpus if cpus is not None else _cpus()
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
    if workers <= 1:
        outcomes = [_outcome(settings, read, e) for e in entries]
        return summarise(settings, outcomes, target=target, mode=mode, started=started)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 - ~15 ms, big scans only

    parts = [list(entries[i::workers]) for i in range(workers)]
    try:
        with ProcessPoolExecutor(workers, mp_context=_context()) as pool:
            futures = [pool.submit(_scan_part, settings, read, part) for part in parts]
            results = [f.result() for f in futures]
    except (OSError, RuntimeError) as exc:  # BrokenProcessPool is a RuntimeError
        raise LeakscanError(
            f"a worker process failed ({type(exc).__name__}); the scan did not finish. "
            "Try again, or report it with the command you ran."
        ) from None
    ordered = [results[i % workers][i // workers] for i in range(len(entries))]
    return summarise(settings, ordered, target=target, mode=mode, started=started)


def _scan_part(
    settings: Settings, read: Callable[[E], Blob | Skipped], part: list[E | Skipped]
) -> list[ItemOutcome]:
    return [_outcome(settings, read, e) for e in part]


def _outcome(settings: Settings, read: Callable[[E], Blob | Skipped], entry: E | Skipped) -> ItemOutcome:
    item = entry if isinstance(entry, Skipped) else read(entry)
    return scan_item(settings, item)


def _context() -> BaseContext:
    import multiprocessing  # noqa: PLC0415

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def bound(read: Callable[..., Blob | Skipped], **kwargs: object) -> Callable[[E], Blob | Skipped]:
    """A picklable reader with its options fixed (for platforms that spawn instead of fork)."""
    return partial(read, **kwargs)
