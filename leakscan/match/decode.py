"""Pure: views of a blob's bytes with one layer of encoding taken off (base64, string escapes).

A view is decoded bytes plus the way back to the encoded text, so a key found inside it is reported at
the position of the encoded text. Every decoder is gated by a cheap check over the whole blob and
bounded (`Limits`): ordinary code pays one `bytes.translate`, one `bytes.find` for a long base64 run and
one `re` pass for escape hints; a crafted file cannot make decoding cost more than the limits.
"""

from __future__ import annotations

import binascii
import itertools
import re
from array import array
from typing import NamedTuple

from leakscan.match.needles import NEEDLES, NESTED_NEEDLES
from leakscan.model import masked_repr


class Limits(NamedTuple):
    """Bounds on decoding work per blob (docs/accuracy.md explains the numbers)."""

    max_depth: int = 2  # encodings inside encodings: base64 of base64 is found, a third is not
    max_run: int = 1 << 20  # longest encoded run (or escaped line) decoded, in bytes
    max_decoded: int = 8 << 20  # decoded bytes per blob, all layers together
    max_regions: int = 4096  # encoded runs or lines decoded per blob


DEFAULT_LIMITS = Limits()
MIN_RUN = 40  # the shortest Stripe key (32 bytes) is 44 base64 characters
NESTED_RUN = 1 << 16  # base64 in base64 is looked for in runs up to this long (k8s values, .env)
WRAP_WIDTHS = (64, 76)  # PEM and MIME/`base64` wrap base64 at these widths
MAX_HINTS = 1 << 16  # `5f`/`5F`/`&#95;` occurrences checked per blob (a hex dump has millions)
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_MASK = bytes(0x41 if c in _B64_CHARS else 0x20 for c in range(256))  # run chars -> "A"
_RUN = b"A" * MIN_RUN
# every escape of "_" (%5F \u005f \x5f &#x5f;) holds 5f or 5F, or is &#95;: one pass finds all three
_ESCAPE_HINT = re.compile(rb"5(?:[fF]|(?<=&#95);)")
_ESCAPE = re.compile(
    rb"%([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|&#([0-9]{1,7});|&#[xX]([0-9A-Fa-f]{1,6});"
)
_ESCAPE_PREFIXES = (b"%", b"\\x", b"\\u00", b"&#x", b"&#X")


class View(NamedTuple):
    """Decoded bytes. `offsets[i]` is where decoded byte i comes from in the parent (len(data)+1
    entries), or, for base64, `origin` is the start of the encoded run (and `width` its wrap width)."""

    data: bytes
    encoding: str  # e.g. "base64", "percent", "base64+percent" (outermost first)
    parent: View | None = None
    offsets: array[int] | None = None
    origin: int = 0
    width: int = 0  # base64 wrapped at this many characters a line (0: one line)
    newline: int = 1  # bytes of line break between wrapped lines

    def __repr__(self) -> str:
        return masked_repr(self, "data", "offsets")


def to_origin(view: View, pos: int, *, end: bool = False) -> int:
    """Offset in the top-level blob of decoded offset `pos` (an exclusive end when `end`)."""
    node: View | None = view
    while node is not None:
        if node.offsets is not None:
            pos = node.offsets[min(pos, len(node.offsets) - 1)]
        else:
            chars = (pos * 4 + 2) // 3 if end else pos * 4 // 3
            if node.width:
                chars += (max(chars - 1, 0) if end else chars) // node.width * node.newline
            pos = node.origin + chars
        node = node.parent
    return pos


def views(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[View]:
    """Every decoded view of `data`, nested up to `limits.max_depth` layers, within the size limits.
    A list, not a generator: most content has no view, and a generator's set-up cost every file
    more than its two checks (docs/performance.md)."""
    budget = [limits.max_decoded, limits.max_regions]
    out: list[View] = []
    stack: list[tuple[bytes, View | None, int]] = [(data, None, 0)]
    while stack:
        chunk, parent, depth = stack.pop()
        if depth >= limits.max_depth:
            continue
        found = [
            *_base64_views(chunk, parent, limits, budget),
            *_escape_views(chunk, parent, limits, budget),
        ]
        out += found
        stack += [(view.data, view, depth + 1) for view in found]
    return out


def _label(parent: View | None, name: str) -> str:
    return name if parent is None else f"{parent.encoding}+{name}"


def _spend(budget: list[int], nbytes: int) -> bool:
    if budget[0] < nbytes or budget[1] <= 0:
        return False
    budget[0] -= nbytes
    budget[1] -= 1
    return True


def _base64_views(
    data: bytes, parent: View | None, limits: Limits, budget: list[int]
) -> list[View]:
    mask = data.translate(_B64_MASK)
    out: list[View] = []
    pos = mask.find(_RUN)
    while pos >= 0:
        end = mask.find(b" ", pos)
        end = len(data) if end < 0 else end
        if end - pos not in WRAP_WIDTHS and _ANY_NEEDLE.search(data, pos, end) is None:
            pos = mask.find(_RUN, end)  # most runs (long names, paths, hashes): no slice, no call
            continue
        width, newline, block_end = _wrapped_block(data, mask, pos, end, limits.max_run)
        if block_end - pos > limits.max_run:  # too long to decode: skipped, never partly decoded
            pos = mask.find(_RUN, block_end)
            continue
        encoded = data[pos:block_end]
        if width:
            encoded = encoded.replace(b"\r", b"").replace(b"\n", b"")
        shift = 0 if width else _alignment(encoded)
        if shift is not None:
            decoded = _b64decode(encoded[shift:])
            if decoded and _spend(budget, len(decoded)):
                out.append(
                    View(
                        decoded, _label(parent, "base64"), parent, None, pos + shift, width, newline
                    )
                )
        pos = mask.find(_RUN, block_end)
    return out


def _wrapped_block(
    data: bytes, mask: bytes, start: int, end: int, max_run: int
) -> tuple[int, int, int]:
    """(wrap width, line-break bytes, end) of base64 wrapped over lines starting at `start`; stops
    once longer than `max_run` (the caller then skips the block). Width 0: not wrapped (one line).
    A wrapped block is decoded without the needle check, so a lone line that happens to be 64
    characters long (`AccountSessionCreateParamsComponentsFinancialAccountTransactions`) must not
    count as one: stripe-python has hundreds, and decoding them cost its tree scan ~20 ms."""
    width = end - start
    if width not in WRAP_WIDTHS:
        return 0, 1, end
    newline = 2 if data[end : end + 2] == b"\r\n" else 1
    first_line_end = end
    while data[end : end + newline] in (b"\n", b"\r\n") and end - start <= max_run:
        nxt = mask.find(b" ", end + newline)
        nxt = len(data) if nxt < 0 else nxt
        if nxt == end + newline or nxt - end - newline > width:
            break
        last = nxt - end - newline < width
        end = nxt
        if last:
            break
    if end == first_line_end:  # one line of 64 or 76 characters (a long name): not a wrapped block
        return 0, 1, end
    return width, newline, end


def _alignment(encoded: bytes) -> int | None:
    """Where the base64 groups start (0..3) if the decoded form (or the decoded form of that) can
    hold a Stripe keyword; None if it cannot. One `re` search rejects almost every run (code has
    many 40-character runs of letters and digits; 36 `find`s each cost stripe-python's tree 0.5 s)."""
    if _ANY_NEEDLE.search(encoded) is None:
        return None
    for needle, first in NEEDLES:
        at = encoded.find(needle)
        if at >= 0:
            return (at - first) % 4
    if len(encoded) <= NESTED_RUN:
        for needle in NESTED_NEEDLES:
            if needle in encoded:
                return 0
    return None


_ANY_NEEDLE = re.compile(
    b"|".join(re.escape(n) for n in (*(n for n, _ in NEEDLES), *NESTED_NEEDLES))
)


def _b64decode(encoded: bytes) -> bytes:
    usable = len(encoded) - len(encoded) % 4
    try:
        return binascii.a2b_base64(encoded[:usable] + _tail(encoded[usable:]), strict_mode=True)
    except (binascii.Error, ValueError):
        return b""


def _tail(rest: bytes) -> bytes:
    return rest + b"=" * (4 - len(rest)) if len(rest) >= 2 else b""


def _escape_views(
    data: bytes, parent: View | None, limits: Limits, budget: list[int]
) -> list[View]:
    out: list[View] = []
    covered = -1
    for pos in _escaped_underscores(data, limits):
        if pos < covered:
            continue
        start, end = _region(data, pos, limits.max_run // 2)
        covered = end
        decoded, offsets = _unescape(data, start, end)
        if _spend(budget, len(decoded)):
            out.append(
                View(decoded, _label(parent, _escape_name(data[start:end])), parent, offsets)
            )
    return out


def _escaped_underscores(data: bytes, limits: Limits) -> list[int]:
    """Sorted offsets of escaped `_`s (at most `max_regions`; at most `MAX_HINTS` hints looked at).

    `re` finds the hints in one pass: its scan for a leading literal byte beats even one
    `bytes.find` (docs/performance.md)."""
    found: list[int] = []
    first = _ESCAPE_HINT.search(data)
    if first is None:  # most content: one pass, and nothing to set up
        return found
    hints = (m.start() - 3 if m.group().endswith(b";") else m.start()
             for m in _ESCAPE_HINT.finditer(data, first.start()))  # fmt: skip
    for pos in itertools.islice(hints, MAX_HINTS):
        if len(found) >= limits.max_regions:
            break
        if data.startswith(b"&#95;", pos) or data[max(0, pos - 4) : pos].endswith(_ESCAPE_PREFIXES):
            found.append(pos)
    return sorted(found)


def _region(data: bytes, pos: int, half: int) -> tuple[int, int]:
    """The line around `pos`, at most `half` bytes either side of it."""
    lo = max(0, pos - half)
    start = data.rfind(b"\n", lo, pos) + 1 or lo
    end = data.find(b"\n", pos, pos + half)
    return start, min(len(data), pos + half) if end < 0 else end


def _escape_name(line: bytes) -> str:
    if b"%" in line and re.search(rb"%5[fF]", line):
        return "percent"
    if b"&#" in line:
        return "html-entity"
    return "unicode-escape" if b"\\u" in line else "hex-escape"


def _unescape(data: bytes, start: int, end: int) -> tuple[bytes, array[int]]:
    """data[start:end] with every escape decoded, and the source offset of each decoded byte."""
    out = bytearray()
    offsets = array("q")
    pos = start
    for m in _ESCAPE.finditer(data, start, end):
        out += data[pos : m.start()]
        offsets.extend(range(pos, m.start()))
        char = _escaped_bytes(m)
        out += char
        offsets.extend([m.start()] * len(char))
        pos = m.end()
    out += data[pos:end]
    offsets.extend(range(pos, end))
    offsets.append(end)
    return bytes(out), offsets


def _escaped_bytes(m: re.Match[bytes]) -> bytes:
    pct, uni, hexa, dec, hexent = m.groups()
    if pct is not None or hexa is not None:
        return bytes([int(pct or hexa, 16)])
    code = int(uni or hexent or b"0", 16) if dec is None else int(dec)
    return chr(code).encode("utf-8", "replace") if code < 0x110000 else b"?"
