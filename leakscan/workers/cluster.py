"""Tasks on an existing Dask distributed cluster (`pip install leakscan[dask]`).

`distributed` is imported only here and only when this executor is chosen, so it stays an optional
extra. Workers need leakscan installed (the same version), and reach the repositories themselves:
clone URLs, or paths on storage every worker mounts.
"""

from __future__ import annotations

import ctypes
import importlib
import os
from types import ModuleType
from typing import Any, Generic, TypeVar

from leakscan.errors import UsageError
from leakscan.workers import Job, Lost, run_one

T = TypeVar("T")
R = TypeVar("R")
CONNECT_TIMEOUT = "20s"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt(3) parameters


def import_distributed() -> ModuleType:
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise UsageError("--executor dask needs Dask distributed; install it with "
                         "`pip install 'leakscan[dask]'`.") from None  # fmt: skip


class DaskExecutor(Generic[T, R]):
    """Submits each task to the scheduler at `address`; a task whose worker died comes back `Lost`
    (after the scheduler's own `allowed-failures` retries, if the cluster has any). Dask keeps no
    state of ours on its workers: the job goes with every task (cloudpickle) and its context is
    opened for that task alone, so a job here should be small (scan-many's is a function)."""

    def __init__(self, job: Job[Any, T, R], address: str) -> None:
        distributed = import_distributed()
        try:
            self._client: Any = distributed.Client(
                address, timeout=CONNECT_TIMEOUT, set_as_default=False
            )
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot connect to the Dask scheduler at {address} "
                             f"({type(exc).__name__}); check the address and that it is running."
                             ) from None  # fmt: skip
        self._job = job
        self._done: Any = distributed.as_completed(loop=self._client.loop)
        self._tasks: dict[str, T] = {}

    def slots(self) -> int:
        """How many tasks the cluster runs at a time now: its workers' threads (at least 1)."""
        threads: dict[str, int] = self._client.nthreads()
        return max(1, sum(threads.values()))

    def submit(self, task: T) -> None:
        future = self._client.submit(run_on_worker, self._job, task, pure=False)
        self._tasks[future.key] = task
        self._done.add(future)

    def next_done(self) -> tuple[T, R | Lost]:
        future = next(self._done)
        task = self._tasks.pop(future.key)
        try:
            if future.status == "finished":
                result: R = future.result()
                return task, result
            exc = future.exception()
            return task, Lost(f"the Dask task failed ({type(exc).__name__})")
        finally:
            future.release()

    def close(self) -> None:
        self._client.close()


def run_on_worker(job: Job[Any, T, R], task: T) -> R | Lost:
    """`run_one` on a Dask worker, with glibc's malloc tuned as everywhere else (`restore_malloc`)."""
    restore_malloc()
    return run_one(job, task)


def restore_malloc() -> None:
    """Undo what Dask's nanny does to its workers' malloc: it starts them with
    MALLOC_TRIM_THRESHOLD_=65536 (distributed's `nanny.pre-spawn-environ`), which also turns off
    glibc's dynamic mmap threshold, so every blob buffer over 128 KiB is mmapped, zero-filled and
    unmapped again, in the worker and in every git it starts. Measured on stripe-python's history
    (`scan --history -j 1`): system time 0.9 s -> 2.3-2.7 s, ~20 % more CPU, most of scan-many's
    Dask overhead (docs/scan-many.md). The thresholds are set where glibc's dynamic ones settle
    (32 MiB mmap, 64 MiB trim) and the variable is dropped before any git starts. Once per worker
    process; nothing where the variable is not set or the C library has no mallopt."""
    if os.environ.pop("MALLOC_TRIM_THRESHOLD_", None) is None:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 64 << 20)
