"""Ctrl-C (and SIGTERM) that always stops a scan, even while the `regex` engine runs (cli/console.py maps them to exit 130 and 143).

Neither `threading` nor `contextlib` is imported for this: a flag and a class with `__enter__` do
the same, and every scan starts ~3 ms sooner (docs/performance.md). `signal` is the stdlib's (the C
`_signal` saved ~0.5 ms of import: not worth a private import outside `workers/` and `match/`)."""

from __future__ import annotations

import signal
from collections.abc import Iterable, Iterator
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

from leakscan.match import engine as match

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")
    Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Terminated(KeyboardInterrupt):
    """SIGTERM: stops a scan as Ctrl-C does (no report written); the exit code is 143."""


class Interrupted:
    """Set when Ctrl-C or SIGTERM arrives; checked between files and at the end of a scan."""

    __slots__ = ("_kind", "_set")

    def __init__(self) -> None:
        self._set = False
        self._kind: type[KeyboardInterrupt] = KeyboardInterrupt

    def set(self, kind: type[KeyboardInterrupt] = KeyboardInterrupt) -> None:
        self._set = True
        if kind is Terminated:
            self._kind = Terminated

    def is_set(self) -> bool:
        return self._set

    def error(self) -> KeyboardInterrupt:
        return self._kind()


class interrupt_guard:  # a lower-case name: it reads as the function it replaced
    """Ctrl-C stops a scan, even inside a regex. The `regex` module swallows a KeyboardInterrupt raised
    while it runs, so a Ctrl-C that lands there sets the flag and a short timer re-raises it until it
    lands in the matcher's own Python code; the flag is checked between files and at the end too.
    Outside the main thread (where signal handlers cannot be set) it only hands out the flag."""

    def __init__(self) -> None:
        self.interrupted = Interrupted()
        self.previous: tuple[Handler, Handler, Handler] | None = None

    def __enter__(self) -> Interrupted:
        event = self.interrupted

        def in_matcher(frame: FrameType | None) -> bool:
            return frame is not None and frame.f_code.co_filename == match.__file__

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            event.set(Terminated if signum == signal.SIGTERM else KeyboardInterrupt)
            if in_matcher(frame):
                signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
            raise event.error()

        def on_tick(signum: int, frame: FrameType | None) -> None:
            if in_matcher(frame):
                raise event.error()

        try:
            sigint = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:  # not the main thread
            return event
        sigterm = signal.signal(signal.SIGTERM, on_sigint)
        self.previous = sigint, signal.signal(signal.SIGALRM, on_tick), sigterm
        return event

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.previous is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGINT, self.previous[0])
            signal.signal(signal.SIGALRM, self.previous[1])
            signal.signal(signal.SIGTERM, self.previous[2])
        if kind is None and self.interrupted.is_set():
            raise self.interrupted.error()


def until_interrupted(items: Iterable[T], interrupted: Interrupted) -> Iterator[T]:
    for item in items:
        if interrupted.is_set():
            raise interrupted.error()
        yield item
    if interrupted.is_set():
        raise interrupted.error()
