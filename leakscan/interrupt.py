"""Ctrl-C that always stops a scan, even while the `regex` engine runs (cli.py maps it to exit 130)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from types import FrameType

from leakscan import match
from leakscan.record import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")



@contextlib.contextmanager
def interrupt_guard() -> Iterator[threading.Event]:
    """Ctrl-C stops a scan, even inside a regex. The `regex` module swallows a KeyboardInterrupt raised
    while it runs, so a Ctrl-C that lands there sets the event and a short timer re-raises it until it
    lands in the matcher's own Python code; the event is checked between files and at the end too."""
    event = threading.Event()

    def in_matcher(frame: FrameType | None) -> bool:
        return frame is not None and frame.f_code.co_filename == match.__file__

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        event.set()
        if in_matcher(frame):
            signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        raise KeyboardInterrupt

    def on_tick(signum: int, frame: FrameType | None) -> None:
        if in_matcher(frame):
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    previous = signal.signal(signal.SIGINT, on_sigint), signal.signal(signal.SIGALRM, on_tick)
    try:
        yield event
        if event.is_set():
            raise KeyboardInterrupt
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


def until_interrupted(
    items: Iterable[T], interrupted: threading.Event
) -> Iterator[T]:
    for item in items:
        if interrupted.is_set():
            raise KeyboardInterrupt
        yield item
    if interrupted.is_set():
        raise KeyboardInterrupt
