"""Pure: how content is read. Plain content is matched as it is; content that looks like UTF-16 also
has a decoded reading, matched besides its raw bytes (never instead: two bytes of BOM must not hide a
key written in ASCII)."""

from __future__ import annotations

import codecs
import re

SNIFF = 8192  # bytes looked at to tell text from binary

# Containers (sources/archives.py opens them) by their magic bytes, never by name.
STREAM_MAGIC = {b"\x1f\x8b\x08": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz",
                b"\x28\xb5\x2f\xfd": "zstd"}  # fmt: skip
COMPRESSED = tuple(STREAM_MAGIC)  # no text file starts with these: looked for in every file
BZ2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")  # after `BZh` and the block size digit
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"Cr24")  # Cr24: a Chrome extension, a zip after it


def is_plain(data: bytes) -> bool:
    """True for most content: no UTF-16 BOM and no NUL in the first bytes, so its raw bytes are its only
    reading (`utf16_text` is not even asked)."""
    bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    return not bom and data.find(b"\x00", 0, SNIFF) < 0


def container_kind(data: bytes) -> str | None:
    """`zip`, `tar`, `gzip`, `bz2`, `xz`, `zstd` from the first bytes, or None. A zip's local
    header and a tar's header always hold a NUL in their first 512 bytes; text never does."""
    if data.startswith(COMPRESSED):
        kind = next(k for magic, k in STREAM_MAGIC.items() if data.startswith(magic))
        return None if kind == "bz2" and data[4:10] not in BZ2_BLOCKS else kind
    if data.find(b"\x00", 0, 512) < 0:
        return None
    if data.startswith(ZIP_MAGIC):
        return "zip"
    return "tar" if data[257:262] == b"ustar" else None


def utf16_text(data: bytes) -> tuple[bytes, str] | None:
    """(the UTF-16 reading as UTF-8-compatible bytes, its encoding label) when `data` starts with a
    UTF-16 BOM or has the NUL pattern of UTF-16, else None (binary, when `is_plain` said no)."""
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


def _decoded(data: bytes, codec: str) -> tuple[bytes, str]:
    text = data[: len(data) - len(data) % 2].decode(codec, "replace")
    return text.encode("utf-8", "surrogatepass"), codec.replace("-le", "le").replace("-be", "be")


# UTF-16LE strings in compiled code (.NET, Windows resources) a key is written in: the keywords
# as UTF-16LE, looked for before any run is decoded, and a run of printable characters long enough
# to hold a prefix and the shortest body (as `strings -el` reads them).
UTF16_KEYWORDS = tuple(k.decode().encode("utf-16-le") for k in (b"_live_", b"_test_", b"whsec_"))
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00){24,}")


def utf16_runs(data: bytes) -> tuple[bytes, str] | None:
    """A binary's UTF-16LE strings, one a line, when one holds a keyword; else None."""
    if not any(k in data for k in UTF16_KEYWORDS):
        return None
    runs = (m.group().decode("utf-16-le") for m in _UTF16_RUN.finditer(data))
    return "\n".join(r for r in runs).encode("utf-8"), "utf16le"


# Compiled code stores a string as its length and its characters (DEX: a uleb128 length, a .pyc:
# one byte, a .class: two bytes), so a 107-character key is preceded by `k` (0x6B) and may be
# followed by the next item's type byte: both would be part of the key's run of word characters.
_KEY_START = re.compile(rb"(?:sk_org|sk|rk|rkcs|pk)_(?:live|test)_|whsec_")
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_PRINTABLE = re.compile(rb"[\x20-\x7e]*")


def delimited(data: bytes) -> bytes:
    """A binary with each length-prefixed string that starts with a key prefix cut out by NULs
    (its length byte, and the byte after its last character), so the key's boundaries are the
    string's; offsets are unchanged. `data` itself when no such string is there."""
    out: bytearray | None = None
    for m in _KEY_START.finditer(data):
        start = m.start()
        if start == 0 or data[start - 1] not in _WORD:
            continue  # the key's left boundary holds already
        length = _string_length(data, start, m.end() - start)
        if length is None:
            continue
        out = out if out is not None else bytearray(data)
        out[start - 1] = 0
        if start + length < len(out):
            out[start + length] = 0
    return data if out is None else bytes(out)


def _string_length(data: bytes, start: int, prefix: int) -> int | None:
    """The length a one- or two-byte prefix before `start` gives, when that many printable
    characters follow (a string longer than the key's `prefix`), else None."""
    run = _PRINTABLE.match(data, start, start + 0xFFFF)
    printable = run.end() - start if run else 0
    for length in (data[start - 1], int.from_bytes(data[max(0, start - 2) : start], "big")):
        if prefix < length <= printable:
            return length
    return None
