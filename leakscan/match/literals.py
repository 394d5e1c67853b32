"""Pure: the literal text every match of a rule must contain, read off the rule's own regex.

A rule's keyword (`_test_`) is broad on purpose: one `bytes.find` per keyword over every byte is the
cheapest first filter. But `_test_` is everywhere in test code, so most content that passes it holds no
key. The regex knows more: `(?P<secret>(?:rk|rkcs)_test_[A-Za-z0-9]{24,247})` can only match text that
contains `rk_test_` or `rkcs_test_`. These literals (the anchors) are a second, exact filter: content
with the keyword but none of its group's anchors cannot match any rule of the group, so the windows and
regexes are skipped. An anchor set is only derived when it is provably necessary (the literal prefix of
the `secret` group, through plain literals, groups and alternations); anything else — flags, classes,
repeats, a pattern `re` cannot parse — gives no anchors, and the rule is matched as before.

Both facts about a pattern come from the generated rule table (`match/pattern_facts.py`) when
it holds the pattern: parsing the built-in rules' regexes cost every scan ~7 ms before its first
file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

MAX_ANCHORS = 16  # more alternatives than this: not worth a find each
MIN_ANCHOR = 4  # shorter literals filter nothing

try:  # the parser behind `re`; `sre_parse` before Python 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
    from re._constants import ASSERT, ASSERT_NOT, AT, BRANCH, LITERAL, SUBPATTERN
except ImportError:  # pragma: no cover - older or other Pythons: no anchors, same results
    _sre_parse = None


def rule_anchors(pattern: str) -> frozenset[bytes] | None:
    """Literals one of which every match of `pattern` contains, or None when that cannot be shown."""
    known = _table_facts(pattern)
    return derive_anchors(pattern) if known is None else known[0]


def starts_with_secret(pattern: str) -> bool:
    """Does every match of `pattern` begin where its `secret` group begins (only lookarounds and
    anchors before it)? Then a match can be tried exactly where an anchor starts (match.py)."""
    known = _table_facts(pattern)
    return derive_starts_with_secret(pattern) if known is None else known[1]


def _table_facts(pattern: str) -> tuple[frozenset[bytes] | None, bool] | None:
    from leakscan.match.pattern_facts import PATTERN_FACTS

    return PATTERN_FACTS.get(pattern)


def derive_anchors(pattern: str) -> frozenset[bytes] | None:
    """`rule_anchors`, worked out from the parsed pattern."""
    parsed = _parse(pattern)
    if parsed is None or parsed.state.flags & re.IGNORECASE:
        return None
    group = parsed.state.groupdict.get("secret")
    body = _find_group(list(parsed), group) if group is not None else None
    if body is None:
        return None
    prefixes, _complete = _prefixes(list(body))
    if not prefixes or any(len(p) < MIN_ANCHOR for p in prefixes):
        return None
    return frozenset(p.encode("latin-1") for p in prefixes)


def _parse(pattern: str) -> Any:
    """`re`'s parse tree of `pattern`, or None (no parser here, or a pattern `re` cannot parse)."""
    if _sre_parse is None:
        return None
    try:
        return _sre_parse.parse(pattern.encode("utf-8"))
    except (re.error, RecursionError, OverflowError):
        return None


def _find_group(items: list[Any], group: int) -> Any:
    """The sub-pattern of capture group `group`, searched through groups and alternations."""
    for op, av in items:
        if op is SUBPATTERN:
            gid, add_flags, _del_flags, sub = av
            if gid == group:
                return None if add_flags & re.IGNORECASE else sub
            found = _find_group(list(sub), group)
            if found is not None:
                return found
        elif op is BRANCH:
            for alt in av[1]:
                found = _find_group(list(alt), group)
                if found is not None:
                    return found
    return None


def _prefixes(items: list[Any]) -> tuple[set[str], bool]:
    """Literal prefixes of the sequence `items`, and whether they are the whole of it."""
    out = {""}
    for op, av in items:
        if op is LITERAL:
            out = {p + chr(av) for p in out}
            continue
        alternatives: list[list[Any]] | None = None
        if op is SUBPATTERN and not av[1] & re.IGNORECASE:
            alternatives = [list(av[3])]
        elif op is BRANCH:
            alternatives = [list(alt) for alt in av[1]]
        if alternatives is None:
            return out, False
        inner: set[str] = set()
        whole = True
        for alt in alternatives:
            sub, complete = _prefixes(alt)
            inner |= sub
            whole = whole and complete
        out = {p + s for p in out for s in inner}
        if len(out) > MAX_ANCHORS:
            return set(), False
        if not whole:
            return out, False
    return out, True


def derive_starts_with_secret(pattern: str) -> bool:
    """`starts_with_secret`, worked out from the parsed pattern."""
    parsed = _parse(pattern)
    if parsed is None:
        return False
    group = parsed.state.groupdict.get("secret")
    for op, av in parsed:
        if op is SUBPATTERN and av[0] == group:
            return True
        if not _zero_width(op, av):
            return False
    return False


def _zero_width(op: Any, av: Any) -> bool:
    if op in (ASSERT, ASSERT_NOT, AT):
        return True
    if op is SUBPATTERN:
        return av[0] is None and all(_zero_width(o, a) for o, a in av[3])
    if op is BRANCH:
        return all(all(_zero_width(o, a) for o, a in alt) for alt in av[1])
    return False
