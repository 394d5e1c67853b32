"""Pure: matches inside decoded and joined views, mapped back to the blob's own byte offsets."""

from __future__ import annotations

from typing import NamedTuple

from leakscan.match.decode import DEFAULT_LIMITS, Limits, View, to_origin, views
from leakscan.match.engine import BlobMatches, Matcher, find_matches
from leakscan.model import masked_repr

SPLIT_NOTE = "The key is written in pieces (string concatenation or a line continuation); leakscan joined them."


class LayeredMatch(NamedTuple):
    """A match found in a view: `start`/`end` are offsets of the encoded text in the blob (on its
    first line); `span_end` is where the encoded text ends, on its last line."""

    rule_id: str
    start: int
    end: int
    secret: str
    encoding: str  # "base64", "percent", "split", "base64+percent", ...
    line_before: str  # decoded text before the key on its decoded line
    timeouts: tuple[str, ...] = ()
    span_end: int = -1

    def __repr__(self) -> str:
        return masked_repr(self, "secret", "line_before")

    @property
    def split(self) -> bool:
        return self.encoding == "split"


def find_layered(
    matcher: Matcher, data: bytes, plain: BlobMatches, limits: Limits = DEFAULT_LIMITS
) -> list[LayeredMatch]:
    """Keys the plain match did not see: inside encodings, or split into pieces."""
    taken = [(m.rule_id, m.start, m.end) for m in plain.matches]
    out: list[LayeredMatch] = []
    split: list[View] = []
    if plain.keywords_seen:  # pieces are joined only around a keyword: most content has none
        from leakscan.match.joined import split_views

        split = split_views(data, plain.keywords_seen)
    for view in split + views(data, limits) if split else views(data, limits):
        found = find_matches(matcher, view.data)
        for m in found.matches:
            start, span_end = to_origin(view, m.start), to_origin(view, m.end, end=True)
            end = _first_line_end(data, start, span_end)
            if any(r == m.rule_id and s < end and start < e for r, s, e in taken):
                continue
            taken.append((m.rule_id, start, end))
            before = _line_before(view, m.start)
            end = max(end, start + 1)
            out.append(
                LayeredMatch(
                    m.rule_id, start, end, m.secret, view.encoding, before, found.timeouts, span_end
                )
            )
    return out


def _first_line_end(data: bytes, start: int, end: int) -> int:
    """Encoded text wrapped or split over lines is located by the part on its first line."""
    nl = data.find(b"\n", start, end)
    if nl < 0:
        return end
    return nl - 1 if nl > start and data[nl - 1 : nl] == b"\r" else nl


def _line_before(view: View, pos: int) -> str:
    line_start = view.data.rfind(b"\n", 0, pos) + 1
    return view.data[max(line_start, pos - 512) : pos].decode("utf-8", "replace")
