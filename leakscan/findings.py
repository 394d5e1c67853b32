"""Pure: the findings of many repositories (or shards of one) as one list, each secret once."""

from __future__ import annotations

from collections.abc import Iterable

from leakscan.model import Confidence, Finding, Location, RuleSet
from leakscan.scan.content import remediation

_CONFIDENCE_ORDER = [Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW]


def merge_findings(rules: RuleSet, parts: Iterable[Iterable[Finding]]) -> tuple[Finding, ...]:
    """One Finding per (rule, secret, inline-allowed or not) — the key `scan.aggregate` uses, with
    the secret's sha256 standing in for the secret itself, which workers do not send back — with
    every location of every part; at HEAD if it is at HEAD anywhere; sorted once."""
    groups: dict[tuple[str, str, bool], list[Finding]] = {}
    for part in parts:
        for f in part:
            inline = f.suppressed is not None and f.suppressed.kind == "inline"
            groups.setdefault((f.rule_id, f.secret_sha256, inline), []).append(f)
    merged = [_combine(rules, group) for group in groups.values()]
    return tuple(sorted(merged, key=finding_order))


def finding_order(f: Finding) -> tuple[int, tuple[str, str, int, int, str], str, str]:
    """Worst first, then by where it is first seen: repository, path, line, column."""
    return (-f.severity, location_order(f.locations[0]), f.rule_id, f.secret_sha256)


def _combine(rules: RuleSet, group: list[Finding]) -> Finding:
    first = group[0]
    if len(group) == 1:
        return first
    at_head = any(f.present_at_head for f in group)
    rule = rules.rule(first.rule_id)
    locations = {loc for f in group for loc in f.locations}
    return Finding(
        rule_id=first.rule_id,
        key_type=first.key_type,
        mode=first.mode,
        severity=max(f.severity for f in group),
        confidence=min((f.confidence for f in group), key=_CONFIDENCE_ORDER.index),
        secret_sha256=first.secret_sha256,
        preview=first.preview,
        present_at_head=at_head,
        locations=tuple(sorted(locations, key=location_order)),
        remediation=remediation(rules, rule, first.secret_sha256, at_head),
        context=tuple(dict.fromkeys(c for f in group for c in f.context)),
        notes=tuple(dict.fromkeys(n for f in group for n in f.notes)),
        suppressed=next((f.suppressed for f in group if f.suppressed is not None), None),
        secret=next((f.secret for f in group if f.secret), ""),
    )


def location_order(loc: Location) -> tuple[str, str, int, int, str]:
    return (loc.repository or "", loc.path, loc.line, loc.column, loc.commit or "")
