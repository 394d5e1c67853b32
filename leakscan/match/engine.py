"""Pure matching: bytes in, matches out.

A literal prefilter (`probes`: one `re` pass per first byte) looks for an anchor of each rule group
(the rules that share a keyword): a literal every match of the group contains (`sk_test_` for
`_test_`, read off the rule regexes by anchors.py), cut to start at a byte rarer in code than the
keyword's `_` (`k_test_`); or for the keyword itself when the anchors are unknown. A group whose
probe matched then finds its hits with one pattern: the keyword where it sits inside an anchor.
When every rule of the group is built in and starts at its anchor (only lookarounds before the
`secret` group), each rule is tried with one `match` at each anchor, up to the end of its line, and
nowhere else. Otherwise (any user rule in the group) a window around each hit goes through an
alternation of the group's rules (the gate) and then each rule on its own, so rules never shadow
each other; a keyword so frequent that windows would cost more is matched with
one pass of each rule over the whole buffer.

Built-in rules are compiled with the standard library's `re` (their patterns are linear: bounded
repeats, no nesting), which compiles them ~3x faster than `regex` and spares a scan the `regex`
import; a whole-buffer pass uses `regex`, ~100x faster than `re` there. User rules always run on
`regex`, with its timeout, so a catastrophic pattern cannot hang a scan (docs/performance.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import RuleError
from leakscan.match.literals import rule_anchors, starts_with_secret
from leakscan.model import Match, Rule

if TYPE_CHECKING:
    from typing import Any

    Pattern = Any  # re.Pattern[bytes] for built-in rules, regex.Pattern[bytes] for user rules

WINDOW_BACK = 256  # bytes looked at before a keyword hit
WINDOW_FORWARD = 1024  # and after it; a match that reaches the edge is retried up to the line's end
MAX_EXTENSION = 1 << 20  # never extend a window by more than this
DENSE_HITS = 4096  # a keyword more frequent than one hit per this many bytes is matched in one pass
MAX_ANCHORED = 1 << 16  # ...or, if its rules start at an anchor, by at most this many `match` calls
DEFAULT_TIMEOUT = 2.0  # seconds one rule may spend on one window or blob


class _Group(NamedTuple):
    """The rules that share a keyword, compiled when the keyword first shows up in a scan: compiling
    every rule and gate up front cost a one-file scan ~17 ms (docs/performance.md). The anchors are
    known up front (the probes are made of them): built-in rules' from the generated rule table."""

    keyword: bytes
    members: tuple[Rule, ...]
    anchors: tuple[tuple[bytes, int], ...]  # (anchor, where the keyword sits in it), () = unknown
    compiled: list[_Compiled]  # empty until first needed, then the one _Compiled
    probe: int = 0  # the index in Matcher.probes of the probe that finds this keyword


class _Compiled(NamedTuple):
    keyword: bytes
    members: tuple[Rule, ...]
    # (anchor, where the keyword sits in it): every match of the group holds one (anchors.py); () = unknown
    anchors: tuple[tuple[bytes, int], ...]
    anchored: bool  # each rule's match begins where its anchor does (lookarounds before it)
    # the keyword where it sits inside an anchor (the keyword alone without anchors): one `re` pass
    # finds the hits that count, instead of a Python step for each `_test_` in test code
    hit_pattern: re.Pattern[bytes]
    # empty until a hit needs the rules, then the one _Patterns: `def test_fk_test_x` has the
    # keyword and `k_test_`, but no anchor, and compiling the group's four rules cost ~2.3 ms
    patterns: list[_Patterns]


class _Patterns(NamedTuple):
    gate: Pattern | None
    rules: tuple[tuple[str, Pattern], ...]


class Matcher(NamedTuple):
    """Rules compiled for matching. Build once with `compile_matcher`, share everywhere."""

    groups: tuple[_Group, ...]
    timeout: float = DEFAULT_TIMEOUT
    keywords: tuple[bytes, ...] = ()
    probes: tuple[re.Pattern[bytes], ...] = ()  # one pass each: is any keyword there?


class BlobMatches(NamedTuple):
    matches: tuple[Match, ...]
    timeouts: tuple[str, ...] = ()  # ids of rules that ran out of time on this input
    # (keyword, its first offset from where its probe first matched) of each keyword whose probe
    # matched: content with `run_test_case` and no probe literal (`k_test_`, `k_live_`...) has none
    keywords_seen: tuple[tuple[bytes, int], ...] = ()


_NO_MATCHES = BlobMatches(())


def compile_matcher(rules: tuple[Rule, ...], timeout: float = DEFAULT_TIMEOUT) -> Matcher:
    by_keyword: dict[bytes, list[Rule]] = {}
    for rule in rules:
        for kw in rule.keywords:
            by_keyword.setdefault(kw.encode("utf-8"), []).append(rule)
    anchors = {kw: _group_anchors(members, kw) for kw, members in by_keyword.items()}
    literals = {kw: _probe_literals(kw, anchors[kw]) for kw in by_keyword}
    firsts, probes = _probes(tuple(lit for lits in literals.values() for lit in lits))
    groups = tuple(
        _Group(kw, tuple(members), anchors[kw], [], firsts.index(literals[kw][0][:1]))
        for kw, members in by_keyword.items()
    )
    return Matcher(groups, timeout, tuple(by_keyword), probes)


def _probe_literals(keyword: bytes, anchors: tuple[tuple[bytes, int], ...]) -> tuple[bytes, ...]:
    """What the probes look for on behalf of a keyword: the keyword itself, or, when its group's
    anchors are known, each anchor from the rarest byte they all have at or before the keyword, up
    to the keyword's end (`k_test_`, `kcs_test_`, `k_org_test_` for `_test_`); every match has one.

    A probe costs `re` a `match` attempt at each occurrence of its first byte, and code has four to
    five times as many `_` as `k`: the synthetic history's prefilter went from 0.96 to 0.69 s of
    CPU, and of sqlalchemy's 929 files 2 instead of 113 go on to look for keywords
    (docs/performance.md)."""
    if not anchors:
        return (keyword,)
    shared = set.intersection(*(set(anchor[: at + 1]) for anchor, at in anchors))
    start = max(shared, key=lambda byte: (_rarity(byte), byte))
    end = len(keyword)
    return tuple(sorted({anchor[anchor.index(start) : at + end] for anchor, at in anchors}))


# Bytes of source code from the most frequent down (counted over the trees of sqlalchemy,
# stripe-python and the synthetic repository); any byte not listed is rarer than all of them.
_FREQUENT = b' etrasnoic\n_ludpm"fhg.,y()b:=kvxwq'


def _rarity(byte: int) -> int:
    rank = _FREQUENT.find(byte)
    return len(_FREQUENT) if rank < 0 else rank


def _probes(literals: tuple[bytes, ...]) -> tuple[list[bytes], tuple[re.Pattern[bytes], ...]]:
    """One `re` pass per first byte of the probe literals (`k(?:_org_live_|…|_test_)`, `whsec_`):
    `re` scans for a pattern's leading literal faster than `bytes.find` looks for the same word, and
    one pass serves every literal that starts with that byte (docs/performance.md); returned with
    those first bytes. One pass with `whsec_` as a lookbehind after `_` was tried twice: 1-3 ms
    faster on the trees, 14-18 % slower on text dense in `_` (the synthetic history)."""
    by_first: dict[bytes, list[bytes]] = {}
    for lit in sorted(set(literals)):
        by_first.setdefault(lit[:1], []).append(lit)
    probes = []
    for first, lits in by_first.items():
        rest = b"|".join(re.escape(lit[1:]) for lit in sorted(lits, key=len, reverse=True))
        probes.append(re.compile(re.escape(first) + b"(?:" + rest + b")"))
    return list(by_first), tuple(probes)


def _compiled(group: _Group) -> _Compiled:
    if not group.compiled:
        anchors = group.anchors
        # built-in rules only: their patterns are known linear and line-bound; user rules keep windows
        anchored = bool(anchors) and all(
            r.origin == "builtin" and starts_with_secret(r.regex) for r in group.members
        )
        hit_pattern = _hit_pattern(group.keyword, anchors)
        group.compiled.append(
            _Compiled(group.keyword, group.members, anchors, anchored, hit_pattern, [])
        )
    return group.compiled[0]


def _patterns(group: _Compiled) -> _Patterns:
    if not group.patterns:
        members = list(group.members)
        gate = None if group.anchored else _compile_gate(members)  # at anchors: no windows to gate
        group.patterns.append(_Patterns(gate, tuple((r.id, compile_pattern(r)) for r in members)))
    return group.patterns[0]


def _hit_pattern(keyword: bytes, anchors: tuple[tuple[bytes, int], ...]) -> re.Pattern[bytes]:
    """`_test_(?:(?<=sk_test_)|(?<=rk_test_)|...)`: the keyword is the pattern's leading literal, which
    `re` scans for quickly, and each anchor is checked around it (lookbehind, lookahead)."""
    if not anchors:
        return re.compile(re.escape(keyword))
    around = []
    for anchor, at in anchors:
        end = at + len(keyword)
        ahead = b"(?=" + re.escape(anchor[end:]) + b")" if anchor[end:] else b""
        around.append(b"(?<=" + re.escape(anchor[:end]) + b")" + ahead)
    return re.compile(re.escape(keyword) + b"(?:" + b"|".join(around) + b")")


def _group_anchors(rules: list[Rule], keyword: bytes) -> tuple[tuple[bytes, int], ...]:
    """Anchors that each contain the keyword, with its offset: a keyword hit can then be checked
    against them in place (`startswith`), with no extra pass over the content."""
    found: set[bytes] = set()
    for rule in rules:
        anchors = rule_anchors(rule.regex)
        if anchors is None or not all(keyword in a for a in anchors):
            return ()
        found |= anchors
    return tuple(sorted((a, a.find(keyword)) for a in found))


def compile_pattern(rule: Rule) -> Pattern:
    """`re` for a built-in rule that `re` accepts; `regex` (with timeouts) for everything else."""
    if rule.origin == "builtin":
        try:
            return re.compile(rule.regex.encode("utf-8"))
        except re.error:
            pass
    return compile_rule_regex(rule.regex, rule.id)


def compile_rule_regex(pattern: str, where: str) -> Any:
    """Rules match bytes: non-ASCII literals in a pattern match their UTF-8 encoding (a regex.Pattern)."""
    import regex

    try:
        return regex.compile(pattern.encode("utf-8"))
    except (OverflowError, ValueError, RecursionError) as exc:
        raise RuleError(f"{where}: bad regex: {exc}.") from None
    except regex.error as exc:
        pos = f" at {exc.pos}" if getattr(exc, "pos", None) is not None else ""
        raise RuleError(
            f"{where}: bad regex{pos}: {exc.msg if hasattr(exc, 'msg') else exc}."
        ) from None


_NAMED_GROUP = re.compile(rb"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")


def _compile_gate(rules: list[Rule]) -> Pattern | None:
    if len(rules) == 1:
        return None
    joined = b"|".join(b"(?:" + r.regex.encode("utf-8") + b")" for r in rules)
    if all(r.origin == "builtin" for r in rules):
        try:  # the gate only says whether anything matches: `re` forbids a group name used twice
            return re.compile(_NAMED_GROUP.sub(b"(?:", joined))
        except re.error:
            return None
    import regex

    try:
        return regex.compile(joined)
    except regex.error:  # e.g. inline flags that only work at the start of a pattern
        return None


def has_keyword(matcher: Matcher, data: bytes) -> bool:
    """The prefilter alone: can `data` contain a match at all?"""
    for probe in matcher.probes:  # a loop, not any(): this runs once for every file and blob
        if probe.search(data):
            return True
    return False


def has_anchored_keyword(matcher: Matcher, data: bytes) -> bool:
    """A keyword where a match could start (inside one of its group's anchors): `_test_` in
    `sk_test_`, not in `run_test_case`. Stricter than has_keyword, and as exact for plain matches."""
    return has_keyword(matcher, data) and any(
        _compiled(group).hit_pattern.search(data) for group in matcher.groups
    )


def find_matches(matcher: Matcher, data: bytes) -> BlobMatches:
    found: dict[tuple[str, int, int], Match] = {}
    timeouts: set[str] = set()
    seen: list[tuple[bytes, int]] = []
    probed = [probe.search(data) for probe in matcher.probes]
    if not any(probed):  # most content: one pass per probe, not one per keyword
        return _NO_MATCHES
    for group in matcher.groups:
        # a probe stops at its first literal: none of the group's anchors starts before it
        hit = probed[group.probe]
        first = -1 if hit is None else data.find(group.keyword, hit.start())
        if first < 0:
            continue
        seen.append((group.keyword, first))
        compiled = _compiled(group)
        for rule_id, m in _group_matches(compiled, data, first, matcher.timeout, timeouts):
            span = _secret_span(m)
            key = (rule_id, span[0], span[1])
            if key not in found:
                secret = data[span[0] : span[1]].decode("utf-8", "replace")
                found[key] = Match(rule_id, span[0], span[1], secret)
    ordered = tuple(sorted(found.values(), key=lambda x: (x.start, x.end, x.rule_id)))
    return BlobMatches(ordered, tuple(sorted(timeouts)), tuple(seen))


def _secret_span(m: Any) -> tuple[int, int]:
    named = "secret" in m.re.groupindex and m.start("secret") >= 0
    span: tuple[int, int] = m.span("secret") if named else m.span()
    return span


def _group_matches(
    group: _Compiled, data: bytes, first: int, timeout: float, timeouts: set[str]
) -> Iterator[tuple[str, Any]]:
    if group.anchored:  # every match starts at an anchor: try each rule there, and nowhere else
        starts = _anchor_starts(data, group, first)
        if starts is not None:
            if starts:
                yield from _anchored_matches(group, data, starts, timeout, timeouts)
            return
    hits = None if group.anchored else _hits(data, group, first)
    if hits == []:
        return
    patterns = _patterns(group)
    if hits is None:  # dense: one pass over everything, keep matches that contain a hit
        for rule_id, pattern in patterns.rules:
            whole = _whole_buffer_pattern(pattern)
            for m in _run(whole, data, 0, len(data), timeout, rule_id, timeouts):
                if data.find(group.keyword, m.start(), m.end()) >= 0:
                    yield rule_id, m
        return
    klen = len(group.keyword)
    for hit in hits:
        lo, hi = _window(data, hit, klen)
        if patterns.gate is not None and not _gate_open(patterns.gate, data, lo, hi, timeout):
            continue
        for rule_id, pattern in patterns.rules:
            for m in _run(pattern, data, lo, hi, timeout, rule_id, timeouts):
                if m.end() == hi and hi < len(data) and data[hi : hi + 1] != b"\n":
                    m = _extended(pattern, data, m.start(), hi, timeout, rule_id, timeouts) or m
                if m.start() <= hit and m.end() >= hit + klen:
                    yield rule_id, m


def _anchor_starts(data: bytes, group: _Compiled, first: int) -> list[tuple[int, int]] | None:
    """(anchor start, keyword hit) of each anchored hit, by start; None past MAX_ANCHORED (one pass
    is cheaper). Sorted: when one anchor ends another (`b_kw_` in `kb_kw_`), both start at the same
    hit, and the matches are those of `finditer` only if the leftmost start is tried first."""
    out = []
    for m in group.hit_pattern.finditer(data, first):
        pos = m.start()
        for anchor, at in group.anchors:
            if pos >= at and data.startswith(anchor, pos - at):
                out.append((pos - at, pos))
                if len(out) > MAX_ANCHORED:
                    return None
    out.sort()
    return out


def _anchored_matches(
    group: _Compiled, data: bytes, starts: list[tuple[int, int]], timeout: float, timeouts: set[str]
) -> Iterator[tuple[str, Any]]:
    """What the windows would find, tried only where an anchor starts: one `match` per rule and
    anchor (~1 µs) instead of a search over a 1 KiB window (~0.4 ms with `re` for these patterns),
    and a file of thousands of `sk_test_` fixtures needs no `regex` import and no whole passes."""
    klen = len(group.keyword)
    rules = _patterns(group).rules
    taken: dict[
        str, int
    ] = {}  # rule id -> end of its last match: matches never overlap, as in finditer
    for start, hit in starts:
        # bounded by the line, as the windows are: `$` matches at its end, a match never spans lines
        end = data.find(b"\n", start, start + MAX_EXTENSION)
        end = min(len(data), start + MAX_EXTENSION) if end < 0 else end
        for rule_id, pattern in rules:
            if rule_id in timeouts or start < taken.get(rule_id, 0):
                continue
            try:
                m = pattern.match(data, start, end, **_limit(pattern, timeout))
            except TimeoutError:
                timeouts.add(rule_id)
                continue
            if m is not None and m.end() >= hit + klen:
                taken[rule_id] = m.end()
                yield rule_id, m


def _whole_buffer_pattern(pattern: Pattern) -> Pattern:
    """`regex` for a pass over a whole buffer (see the module docstring); compiled once, cached by regex."""
    if not isinstance(pattern, re.Pattern):
        return pattern
    import regex

    return regex.compile(
        pattern.pattern
    )  # built-ins are compiled without flags: inline ones carry over


def _hits(data: bytes, group: _Compiled, first: int) -> list[int] | None:
    """Keyword positions that sit inside one of the group's anchors (`_test_` only as part of
    `sk_test_`, ...: in test code most `_test_` are not); None when so many that one pass is cheaper."""
    limit = len(data) // DENSE_HITS + 64
    hits = []
    for m in group.hit_pattern.finditer(data, first):
        hits.append(m.start())
        if len(hits) > limit:
            return None
    return hits


def _window(data: bytes, hit: int, klen: int) -> tuple[int, int]:
    lo = max(0, hit - WINDOW_BACK)
    nl = data.rfind(b"\n", lo, hit)
    if nl >= 0:
        lo = nl + 1
    hi = min(len(data), hit + klen + WINDOW_FORWARD)
    nl = data.find(b"\n", hit, hi)
    if nl >= 0:
        hi = nl
    return lo, hi


def _gate_open(gate: Pattern, data: bytes, lo: int, hi: int, timeout: float) -> bool:
    try:
        return gate.search(data, lo, hi, **_limit(gate, timeout)) is not None
    except TimeoutError:
        return True  # let each rule run alone, so the slow one is named


def _limit(pattern: Pattern, timeout: float) -> dict[str, float]:
    """`regex` patterns take a timeout; `re` patterns (built-in rules only) are linear and take none."""
    return {} if isinstance(pattern, re.Pattern) else {"timeout": timeout}


def _run(
    pattern: Pattern,
    data: bytes,
    lo: int,
    hi: int,
    timeout: float,
    rule_id: str,
    timeouts: set[str],
) -> list[Any]:
    if rule_id in timeouts:  # already incomplete here: do not pay the timeout once per window
        return []
    try:
        return list(pattern.finditer(data, lo, hi, **_limit(pattern, timeout)))
    except TimeoutError:
        timeouts.add(rule_id)
        return []


def _extended(
    pattern: Pattern,
    data: bytes,
    start: int,
    hi: int,
    timeout: float,
    rule_id: str,
    timeouts: set[str],
) -> Any:
    end = data.find(b"\n", hi, hi + MAX_EXTENSION)
    if end < 0:
        end = min(len(data), hi + MAX_EXTENSION)
    try:
        return pattern.match(data, start, end, **_limit(pattern, timeout))
    except TimeoutError:
        timeouts.add(rule_id)
        return None
