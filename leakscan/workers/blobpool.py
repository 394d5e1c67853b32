"""An executor of forked pool workers that each open the job's context once and keep it for all their
tasks: history scans run their blob chunks here.

A `concurrent.futures.ProcessPoolExecutor` with an initializer: a worker forks with the job in memory
(the compiled rules are not pickled, neither with every chunk nor once), opens its context (one `git
cat-file --batch`, whose delta-base cache and pack maps then last for all its chunks), and hands
back each result as soon as it is done, so the progress bar moves with the chunks. A worker that dies
breaks the whole pool: every task not yet back comes back `Lost`. An exception `run` raises is
re-raised by `next_done`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from typing import Any, Generic, TypeVar

from leakscan.workers import Job, Lost

T = TypeVar("T")
R = TypeVar("R")

# The job and its opened context in this worker process, set once by `_start_worker`: a pool worker
# has no scope of its own to hold them. Only ever set in pool workers.
_WORKER: dict[str, Any] = {}


class BlobPool(Generic[T, R]):
    """`workers` forked processes (spawned where there is no fork) running one job's tasks."""

    def __init__(self, job: Job[Any, T, R], workers: int) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, workers),
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(job,),
        )
        self._pending: dict[Future[Any], T] = {}
        self._done: deque[tuple[T, R | Lost]] = deque()

    def submit(self, task: T) -> None:
        self._pending[self._pool.submit(_run_task, task)] = task

    def next_done(self) -> tuple[T, R | Lost]:
        if not self._done:
            if not self._pending:
                raise RuntimeError("next_done() with nothing submitted")
            finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = self._pending.pop(future)
                try:
                    self._done.append((task, future.result()))  # re-raises what `run` raised
                except BrokenProcessPool:
                    self._done.append(
                        (task, Lost("a scanning worker process died (out of memory?)"))
                    )
        return self._done.popleft()

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
        self._pending.clear()


def _start_worker(job: Job[Any, Any, Any]) -> None:
    _WORKER["job"] = job
    _WORKER["stack"] = stack = ExitStack()  # kept, or collecting it would close the context
    _WORKER["context"] = (
        job.context if job.opens is None else stack.enter_context(job.opens(job.context))
    )
    # When the worker exits, close the context (git's stdin) and wait for it: no orphan, and its CPU
    # time is counted.
    multiprocessing.util.Finalize(None, stack.close, exitpriority=10)
    # Ctrl-C reaches the whole process group: the parent reports it; a worker just stops, without the
    # traceback multiprocessing would print (its `git cat-file` gets the signal too).
    signal.signal(signal.SIGINT, _stop_worker)


def _stop_worker(signum: int, frame: object) -> None:
    os._exit(128 + signum)


def _run_task(task: object) -> object:
    return _WORKER["job"].run(_WORKER["context"], task)
