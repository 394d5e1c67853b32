"""locate(): byte offsets -> 1-based line, column in code points, exclusive end column."""

from __future__ import annotations

import pytest

from leakscan.match.lines import Position, locate

KEY = b"KEY"


def at(data: bytes, needle: bytes = KEY, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = data.index(needle, start + 1)
    return start, start + len(needle)


@pytest.mark.parametrize(
    "data, line, column, end_column",
    [
        (b"KEY", 1, 1, 4),  # first byte of the file
        (b"abc KEY", 1, 5, 8),
        (b"a\nbc KEY\n", 2, 4, 7),
        (b"\n\nKEY", 3, 1, 4),  # empty lines before, last line without a line break
        (b"one\r\ntwo KEY\r\n", 2, 5, 8),  # CRLF: the \r counts as no column
        (b"a\rKEY", 1, 3, 6),  # a lone CR is not a line break
        ("é KEY".encode(), 1, 3, 6),  # 2-byte character before
        ("密钥是KEY".encode(), 1, 4, 7),  # 3-byte characters
        ("🔑=KEY".encode(), 1, 3, 6),  # 4-byte character
        (b"\xff\xfeKEY", 1, 3, 6),  # each invalid byte is one replacement character
        (b"\tKEY", 1, 2, 5),  # a tab is one column
        (b"x\n" * 1000 + b"KEY\n", 1001, 1, 4),
    ],
    ids=["start", "col", "second-line", "blank-lines", "crlf", "lone-cr", "utf8-2", "utf8-3",
         "utf8-4", "invalid", "tab", "line-1001"],
)  # fmt: skip
def test_line_and_columns(data, line, column, end_column):
    (pos,) = locate(data, [at(data)])
    assert (pos.line, pos.column, pos.end_column) == (line, column, end_column)


def test_end_column_counts_code_points_of_the_match():
    data = "x = 'Kéy密🔑'\n".encode()
    start = data.index(b"K")
    end = data.index(b"'", start)
    (pos,) = locate(data, [(start, end)])
    assert (pos.column, pos.end_column) == (6, 6 + len("Kéy密🔑"))


@pytest.mark.parametrize(
    "data, line_text",
    [
        (b"a\nxx KEY yy\nb", b"xx KEY yy"),
        (b"a\r\nxx KEY yy\r\nb", b"xx KEY yy"),  # without the \r
        (b"xx KEY", b"xx KEY"),  # the whole file, no line break
        (b"KEY\n", b"KEY"),
        (b"a\nKEY", b"KEY"),  # last line
    ],
    ids=["lf", "crlf", "only-line", "first-line", "last-line"],
)
def test_line_bounds_are_the_line_without_its_break(data, line_text):
    (pos,) = locate(data, [at(data)])
    assert data[pos.line_start : pos.line_end] == line_text


def test_many_spans_in_order_and_out_of_order_agree():
    data = "KEY\né KEY\r\n\nab KEY KEY\n".encode()
    spans = [at(data, nth=i) for i in range(4)]
    in_order = list(locate(data, spans))
    assert [(p.line, p.column) for p in in_order] == [(1, 1), (2, 3), (4, 4), (4, 8)]
    backwards = list(locate(data, spans[::-1]))
    assert backwards == in_order[::-1]
    assert all(isinstance(p, Position) for p in in_order)


def test_no_spans_no_positions():
    assert list(locate(b"KEY", [])) == []
