"""A pool of worker processes on this machine that knows which task each worker is running, so a
worker that dies mid-task costs that one task (reported as `Lost`) and is replaced.

`concurrent.futures.ProcessPoolExecutor` cannot do this: one dead worker breaks the whole pool and
fails every queued task with it.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, NamedTuple, TypeVar

from leakscan.workers import Job, Lost, in_worker

T = TypeVar("T")
R = TypeVar("R")
_STOP_SECONDS = 5.0


class _Worker(NamedTuple):
    process: BaseProcess
    conn: Connection


def _serve(conn: Connection, job: Job[Any, Any, Any]) -> None:
    """A worker's life: run tasks until told to stop. Ctrl-C is the parent's business."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    in_worker(job, lambda context: _serve_tasks(conn, job, context))


def _serve_tasks(conn: Connection, job: Job[Any, Any, Any], context: object) -> None:
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            result = job.run(context, task)
        except Exception as exc:  # noqa: BLE001 - a bug in run: named, never its message (may quote content)
            result = Lost(f"internal error ({type(exc).__name__})")
        conn.send(result)


class LocalExecutor(Generic[T, R]):
    """`jobs` worker processes, started on demand, each running one task at a time. Workers start
    from a fork server (spawned elsewhere), so the job is pickled to each of them once."""

    def __init__(self, job: Job[Any, T, R], jobs: int) -> None:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        self._ctx: Any = multiprocessing.get_context(method)
        self._job = job
        self._jobs = max(1, jobs)
        self._queue: deque[T] = deque()
        self._idle: list[_Worker] = []
        self._busy: dict[_Worker, T] = {}

    def submit(self, task: T) -> None:
        self._queue.append(task)
        self._dispatch()

    def next_done(self) -> tuple[T, R | Lost]:
        if not self._busy:
            raise RuntimeError("next_done() with nothing submitted")
        while True:
            by_handle: dict[Any, _Worker] = {}
            for w in self._busy:
                by_handle[w.conn] = w
                by_handle[w.process.sentinel] = w
            ready = wait(list(by_handle))
            worker = by_handle[ready[0]]
            done = self._collect(worker)
            if done is not None:
                self._dispatch()
                return done

    def _collect(self, worker: _Worker) -> tuple[T, R | Lost] | None:
        task = self._busy.pop(worker)
        closed = False
        try:
            if worker.conn.poll():
                result: R | Lost = worker.conn.recv()
                self._idle.append(worker)
                return task, result
        except (EOFError, OSError):  # the pipe closed: the process is exiting, or is gone
            closed = True
            worker.process.join(_STOP_SECONDS)
        if worker.process.is_alive() and not closed:  # woke up early: still working
            self._busy[worker] = task
            return None
        if worker.process.is_alive():
            worker.process.terminate()
        worker.process.join()
        worker.conn.close()
        return task, Lost(f"the worker process died (exit code {worker.process.exitcode})")

    def _dispatch(self) -> None:
        while self._queue and (self._idle or len(self._busy) < self._jobs):
            worker = self._idle.pop() if self._idle else self._start()
            task = self._queue.popleft()
            worker.conn.send(task)
            self._busy[worker] = task

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child, self._job), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def close(self) -> None:
        workers = [*self._idle, *self._busy]
        for w in workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in workers:
            w.process.join(_STOP_SECONDS if w in self._idle else 0)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join()
            w.conn.close()
        self._idle.clear()
        self._busy.clear()
        self._queue.clear()
