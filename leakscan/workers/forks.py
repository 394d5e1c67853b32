"""An executor of bare `os.fork` children, with this process as one of the workers.

Measured reason: a `ProcessPoolExecutor` cost a tree scan ~75 ms of CPU (the `multiprocessing`
import, queues, a thread, pickling the settings in), so `--jobs 2` was slower than `--jobs 1` on the
synthetic tree (489 vs 391 ms); forked, both cost the same CPU and `--jobs 2` less wall (697 vs 908
ms; docs/performance.md). The children start with the job's context in memory (compiled rules, the
file list): nothing is pickled on the way in, only results on the way out.

Every task is submitted before the first `next_done()`, which forks. Task numbers wait in a pipe
(a 4-byte read from a pipe is atomic), so each process takes the next task as it finishes one. This
process hands back its own results as it goes; once the queue is empty, it reads each child's
results (pickled, all at once when the child is done). A child that fails loses the tasks it took:
they come back `Lost`. With one worker, or where there is no fork, everything runs in this process.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from leakscan.workers import Job, Lost, in_worker

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

T = TypeVar("T")
R = TypeVar("R")

MAX_TASKS = (
    1024  # task numbers (4 bytes each) are written before the fork: one page, a pipe's least
)


class ForkExecutor(Generic[T, R]):
    """This process and `workers - 1` forked children, taking tasks from one queue."""

    def __init__(self, job: Job[Any, T, R], workers: int) -> None:
        self._job = job
        self._workers = max(1, workers) if hasattr(os, "fork") else 1
        self._tasks: list[T] = []
        self._started = False
        self._queue = -1  # read end of the pipe of task numbers (forked runs only)
        self._next = 0  # the next task number, when this process is the only worker
        self._children: list[tuple[int, int]] = []  # (pid, read end); -1 once reaped / closed
        self._results: list[tuple[int, R]] = []  # the children's, not handed back yet
        self._returned: list[bool] = []
        self._failure = ""  # why a child failed, for its tasks
        self._lost: list[int] | None = None
        self._opened: AbstractContextManager[Any] | None = None
        self._context = job.context

    def submit(self, task: T) -> None:
        if self._started:
            raise RuntimeError("ForkExecutor: every task is submitted before the first next_done()")
        self._tasks.append(task)

    def next_done(self) -> tuple[T, R | Lost]:
        if not self._started:
            self._start()
        number = self._take()
        if number is not None:
            self._returned[number] = True
            return self._tasks[number], self._job.run(self._context, self._tasks[number])
        while not self._results and self._children:
            self._collect()
        if self._results:
            number, result = self._results.pop()
            self._returned[number] = True
            return self._tasks[number], result
        if self._lost is None:  # every child is read: the tasks still out were a failed child's
            self._lost = [n for n, back in enumerate(self._returned) if not back]
        if not self._lost:
            raise RuntimeError("next_done() with no task left")
        number = self._lost.pop()
        return self._tasks[number], Lost(self._failure)

    def _start(self) -> None:
        self._started = True
        self._returned = [False] * len(self._tasks)
        if self._workers > 1:
            self._fork()
        if self._job.opens is not None:  # after the fork: each child opens its own
            self._opened = self._job.opens(self._job.context)
            self._context = self._opened.__enter__()

    def _fork(self) -> None:
        if len(self._tasks) > MAX_TASKS:
            raise ValueError(f"ForkExecutor: at most {MAX_TASKS} tasks, not {len(self._tasks)}")
        # The C pickler alone: `pickle` itself adds ~1.5 ms of import to a tree scan.
        try:
            from _pickle import dumps
        except ImportError:  # pragma: no cover - Pythons without it
            from pickle import dumps

        self._queue, fill = os.pipe()
        numbers = b"".join(n.to_bytes(4, "little") for n in range(len(self._tasks)))
        written = os.write(
            fill, numbers
        )  # at most one page: it fits any pipe, and is written whole
        os.close(fill)  # the queue ends (reads return b"") once every number is taken
        assert written == len(numbers)
        for _ in range(self._workers - 1):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
                code = 1
                try:
                    os.close(r)
                    taken = in_worker(self._job, self._run_all)
                    with os.fdopen(w, "wb") as pipe:
                        pipe.write(dumps(taken, -1))  # -1: the highest protocol
                    code = 0
                finally:
                    os._exit(code)
            os.close(w)
            self._children.append((pid, r))

    def _run_all(self, context: Any) -> list[tuple[int, R]]:
        """A child's life: run the next task from the queue until it is empty."""
        done = []
        while (number := self._take()) is not None:
            done.append((number, self._job.run(context, self._tasks[number])))
        return done

    def _take(self) -> int | None:
        """The next task's number, or None when every task is taken."""
        if self._queue < 0:  # this process alone
            if self._next == len(self._tasks):
                return None
            self._next += 1
            return self._next - 1
        number = os.read(self._queue, 4)
        return int.from_bytes(number, "little") if number else None

    def _collect(self) -> None:
        """Read the first child's results (blocking until it is done) and reap it."""
        try:  # the C pickler, as in `_fork`
            from _pickle import loads
        except ImportError:  # pragma: no cover - Pythons without it
            from pickle import loads

        pid, r = self._children[0]
        pipe = os.fdopen(r, "rb")
        self._children[0] = (pid, -1)  # the file object closes it now
        with pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        del self._children[0]
        if status != 0:
            self._failure = f"a worker process failed (status {status})"
        else:
            self._results += loads(payload)

    def close(self) -> None:
        """Interrupted, or a worker failed: leave no child or pipe behind."""
        if self._queue >= 0:
            os.close(self._queue)
            self._queue = -1
        for pid, r in self._children:
            if r >= 0:
                os.close(r)
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
        self._children.clear()
        opened, self._opened = self._opened, None
        if opened is not None:
            opened.__exit__(None, None, None)
