"""One way to run work on several processes: a `Job`, and an `Executor` that runs its tasks.

Four executors, one module each: `forks` (bare `os.fork`, this process one of the workers: tree
scans, and any scan small enough to stay in this process), `blobpool` (forked pool workers that keep
the job's context open: history blob chunks, with progress as chunks finish), `pool` (a process pool
that replaces a worker that dies: scan-many), `cluster` (Dask: scan-many across machines).

Every executor hands each task back once, as its result or as `Lost` (its worker died, or the executor
could not run it); the caller decides whether to retry it or to stop. An exception `run` raises comes
back where the executor can carry it (this process, the blob pool), else as `Lost`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, NamedTuple, Protocol, TypeVar

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")
X = TypeVar("X")
R_co = TypeVar("R_co", covariant=True)


class Lost(NamedTuple):
    """A task that produced no result: its worker died, or the executor could not run it."""

    reason: str  # a sentence without its full stop, about the worker, never the task's content


class Job(NamedTuple, Generic[C, T, R]):
    """What an executor's workers do: `run(context, task)` for every task."""

    run: Callable[[C, T], R]  # a module-level function (executors that do not fork pickle it)
    context: C  # what every task needs: reaches each worker once (inherited by a fork, or pickled)
    # Entered once in each worker before its first task, left when the worker ends: opens what its
    # tasks share (one `git cat-file --batch`); its value is the context `run` gets. None: `context`.
    opens: Callable[[C], AbstractContextManager[C]] | None = None


class Executor(Protocol[T, R_co]):
    def submit(self, task: T) -> None:
        """Queue a task; it runs when a worker is free."""

    def next_done(self) -> tuple[T, R_co | Lost]:
        """Block until a submitted task finishes: the task and its result, or `Lost`."""

    def close(self) -> None:
        """Stop the workers this executor started (never a cluster it only connected to). Callers
        use `with contextlib.closing(executor):`."""


def each_task(fn: Callable[[T], R]) -> Job[Callable[[T], R], T, R]:
    """A job without a context of its own: `fn(task)` for every task."""
    return Job(_call, fn)


def _call(fn: Callable[[T], R], task: T) -> R:
    return fn(task)


def in_worker(job: Job[C, T, R], body: Callable[[C], X]) -> X:
    """`body(context)` with the job's context opened (`Job.opens`) around it."""
    if job.opens is None:
        return body(job.context)
    with job.opens(job.context) as context:
        return body(context)


def run_one(job: Job[C, T, R], task: T) -> R:
    """One task on its own, its context opened just for it (where no worker outlives a task)."""
    return in_worker(job, lambda context: job.run(context, task))


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity), not all the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
