"""Where `scan-many` runs its per-repository tasks: a process pool here, or a Dask cluster.

Both run one function over tasks and hand results back as they finish; a task whose worker died (or
that could not be run at all) comes back as `Lost`, and the caller decides whether to retry it.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
T_contra = TypeVar("T_contra", contravariant=True)


class Lost(NamedTuple):
    """A task that produced no result: its worker died, or the executor could not run it."""

    reason: str


class Executor(Protocol[T]):
    def submit(self, task: T) -> None:
        """Queue a task; it runs when a worker is free."""

    def next_done(self) -> tuple[T, object]:
        """Block until a submitted task finishes; its result, or `Lost`."""

    def close(self) -> None:
        """Stop the workers this executor started (never a cluster it only connected to)."""
