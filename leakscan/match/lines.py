"""Pure: byte offsets -> 1-based line and column (Unicode code points of the decoded line)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple


class Position(NamedTuple):
    line: int
    column: int
    end_column: int  # exclusive
    line_start: int  # byte offsets of the line, without its line break
    line_end: int


def locate(data: bytes, spans: Iterable[tuple[int, int]]) -> Iterator[Position]:
    """Positions for spans in ascending order of start; counts line breaks once, not per span."""
    line, counted_to, line_start = 1, 0, 0
    for start, end in spans:
        if start < counted_to:  # out of order: recount from the top
            line, counted_to, line_start = 1, 0, 0
        line += data.count(b"\n", counted_to, start)
        counted_to = start
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", end)
        if line_end < 0:
            line_end = len(data)
        if line_end > line_start and data[line_end - 1 : line_end] == b"\r":
            line_end -= 1
        column = _width(data[line_start:start]) + 1
        yield Position(line, column, column + _width(data[start:end]), line_start, line_end)


def _width(chunk: bytes) -> int:
    return len(chunk.decode("utf-8", "replace"))
