"""Pure: which bytes of a file or blob to scan. Binary is skipped cheaply; UTF-16 text is decoded."""

from __future__ import annotations

import codecs

SNIFF = 8192  # bytes looked at to tell text from binary


def is_plain(data: bytes) -> bool:
    """True when `text_for_scan` matches `data` as it is: no UTF-16 BOM, no NUL in the first bytes."""
    bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    return not bom and data.find(b"\x00", 0, SNIFF) < 0


def text_for_scan(data: bytes) -> tuple[bytes, str] | None:
    """(UTF-8-compatible bytes to match, the file's encoding label), or None for binary content."""
    if is_plain(data):
        return data, "plain"
    if data.startswith(codecs.BOM_UTF16_LE) and not data.startswith(codecs.BOM_UTF32_LE):
        return _decoded(data[2:], "utf-16-le")
    if data.startswith(codecs.BOM_UTF16_BE):
        return _decoded(data[2:], "utf-16-be")
    guess = _utf16_without_bom(data[:SNIFF])
    return _decoded(data, guess) if guess else None


def _utf16_without_bom(head: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a NUL in every other byte, and nowhere else."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nuls = head[0 : pairs * 2 : 2].count(0)
    odd_nuls = head[1 : pairs * 2 : 2].count(0)
    if odd_nuls >= 0.9 * pairs and even_nuls <= 0.02 * pairs:
        return "utf-16-le"
    if even_nuls >= 0.9 * pairs and odd_nuls <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _decoded(data: bytes, codec: str) -> tuple[bytes, str] | None:
    text = data[: len(data) - len(data) % 2].decode(codec, "replace")
    return text.encode("utf-8", "surrogatepass"), codec.replace("-le", "le").replace("-be", "be")
