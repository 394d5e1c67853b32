"""Pure: keys written in pieces — string concatenation and line continuations — joined into views.

Forms handled (docs/accuracy.md): `"sk_live_" + "…"` (JS, Java, C#, Python, …), `"…" . "…"` (PHP),
`"…" & "…"` (VB), Python/C implicit concatenation `("sk_live_" "…")` on one line or several, and a
shell `\\` line continuation inside the body. Findings from these views are reported at medium
confidence: the pieces may not be used together.
"""

from __future__ import annotations

import re
from array import array

from leakscan.match.decode import View

MAX_HITS = 2048  # keyword occurrences looked at per keyword and blob
MAX_PIECES = 16  # pieces joined into one key
BACK = 64  # bytes kept before the keyword (the key's prefix and its left boundary)
_BODY = re.compile(rb"[A-Za-z0-9]*")
_GAP = re.compile(
    rb"""(["'`])[ \t]*(?:\+|\.|&)?[ \t]*(?:\\?\r?\n[ \t]*(?:\+|\.|&)?[ \t]*)?\1"""  # "a" + "b", "a"\n"b"
    rb"""|\\\r?\n[ \t]*"""  # shell continuation
)
_PREFIX_ENDS = (b"sk", b"rk", b"pk", b"cs", b"rg")  # sk_ rk_ pk_ rkcs_ sk_org_ before _live_/_test_


def split_views(data: bytes, keywords_seen: tuple[tuple[bytes, int], ...]) -> list[View]:
    """One view per keyword occurrence whose body is interrupted by a concatenation or continuation.
    `keywords_seen` are the (keyword, offset to look from) pairs of the plain match: keywords whose
    probe found a literal that could start a key (`k_test_`), so content without one costs nothing
    here; every occurrence from that offset on is checked for a key prefix before it."""
    out: list[View] = []
    for keyword, first in keywords_seen:
        pos, seen = first, 0
        while pos >= 0 and seen < MAX_HITS:
            seen += 1
            resume = pos + len(keyword)
            if keyword == b"whsec_" or data[pos - 2 : pos] in _PREFIX_ENDS:
                view, resume = _joined(data, resume)
                if view is not None:
                    out.append(view)
            pos = data.find(keyword, max(resume, pos + len(keyword)))
    return out


def _joined(data: bytes, body_start: int) -> tuple[View | None, int]:
    """The key starting before `body_start` with its gaps removed, and where its last piece ends."""
    body = _BODY.match(data, body_start)
    assert body is not None
    pos = body.end()
    gaps: list[tuple[int, int]] = []
    while len(gaps) < MAX_PIECES:
        gap = _GAP.match(data, pos)
        if gap is None or gap.end() == len(data) or not data[gap.end() : gap.end() + 1].isalnum():
            break
        gaps.append(gap.span())
        nxt = _BODY.match(data, gap.end())
        assert nxt is not None
        pos = nxt.end()
    if not gaps:
        return None, pos
    start = data.rfind(b"\n", max(0, body_start - BACK), body_start) + 1 or max(
        0, body_start - BACK
    )
    quote = data[gaps[0][0] : gaps[0][0] + 1]
    end = pos + 1 if data[pos : pos + 1] == quote else pos
    return _view(data, start, end, gaps), pos


def _view(data: bytes, start: int, end: int, gaps: list[tuple[int, int]]) -> View:
    out = bytearray()
    offsets = array("q")
    pos = start
    for lo, hi in gaps:
        out += data[pos:lo]
        offsets.extend(range(pos, lo))
        pos = hi
    out += data[pos:end]
    offsets.extend(range(pos, end))
    offsets.append(end)
    return View(bytes(out), "split", None, offsets)
