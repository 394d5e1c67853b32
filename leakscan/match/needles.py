"""Pure: the literals an encoded Stripe keyword holds, for the decoders and the history prefilter.

The decoders (decode.py) look for the base64 of each keyword before decoding a run; a history scan
(scan/blobs.py) sends a blob with none of the plain anchors to full matching only when it holds one
of `ENCODED_LITERALS`: those base64 needles, or an escaped `_` written next to a keyword's letters
(`%5Flive`, `test\\u005f`, `whsec&#95;`), each form the escape decoder reads.

One multi-literal search (Aho-Corasick, leftmost-first so that its SIMD prefilter is used) finds
all 64 literals in one pass: over stripe-python's 38,011 blobs (1.86 GB) it costs 0.54 s of CPU,
where `re` took ~20 s for the alternation of the 36 base64 needles alone and 0.6-0.8 s for each
single literal (docs/performance.md).
"""

from __future__ import annotations

import binascii
from typing import Any

KEYWORDS = (b"_live_", b"_test_", b"whsec_")  # every built-in rule's keyword holds one of these


def needles(keyword: bytes) -> tuple[tuple[bytes, int], ...]:
    """The base64 characters that encode `keyword` alone at each of the 3 byte alignments, each with
    its distance from the start of its 4-character group."""
    out = []
    for shift in range(3):
        enc = binascii.b2a_base64(b"\x00" * shift + keyword, newline=False)
        first = -(-shift * 8 // 6)
        last = (shift + len(keyword)) * 8 // 6
        out.append((enc[first:last], first))
    return tuple(out)


NEEDLES = tuple(n for kw in KEYWORDS for n in needles(kw))
NESTED_NEEDLES = tuple(nn for n, _ in NEEDLES for nn, _ in needles(n))  # base64 of base64

# How an escaped `_` (`%5F` `\x5f` `\u005f` `&#x5f;` `&#95;`, as decode.py reads them) ends, to
# sit before a keyword's letters, and how it starts, to sit after them: `%5Flive`, `live%5F`.
ESCAPE_ENDS = (b"5F", b"5f", b"5F;", b"5f;", b"95;")
ESCAPE_STARTS = (b"%5", b"\\x5", b"\\u005", b"&#x5", b"&#X5", b"&#95")


def escape_literals(keyword: bytes) -> tuple[bytes, ...]:
    """Literals one of which `keyword` holds when one of its `_`s is escaped and its letters are not."""
    word = keyword.strip(b"_")
    before = tuple(end + word for end in ESCAPE_ENDS) if keyword.startswith(b"_") else ()
    after = tuple(word + start for start in ESCAPE_STARTS) if keyword.endswith(b"_") else ()
    return before + after


ENCODED_LITERALS = (
    *(n for n, _ in NEEDLES),
    *NESTED_NEEDLES,
    *(lit for kw in KEYWORDS for lit in escape_literals(kw)),
)
# Built on first use: only the history prefilter searches for them, and building the automaton
# (with its import) costs a pre-commit scan ~2 ms it would never use.
_SEARCHER: list[Any] = []


def has_encoded_keyword(data: bytes) -> bool:
    """Does `data` hold a keyword in base64 (or base64 of base64) or with an escaped `_`?"""
    if not _SEARCHER:
        import ahocorasick_rs

        _SEARCHER.append(
            ahocorasick_rs.BytesAhoCorasick(
                list(ENCODED_LITERALS), matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST
            )
        )
    return bool(_SEARCHER[0].find_matches_as_indexes(data))
