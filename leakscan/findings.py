"""Pure: classified occurrences -> Findings, one per secret; merging findings; the one sort order.

A tree scan, a history scan and the shards and repositories of `scan-many` all end here: each
occurrence becomes a one-location Finding, and findings of the same secret are combined by one
function, however many parts they come from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from leakscan import exposure as window
from leakscan import suppress
from leakscan.accounts import account_of
from leakscan.fingerprint import preview, secret_sha256
from leakscan.model import (
    Confidence,
    Exposure,
    Finding,
    Location,
    Rule,
    RuleSet,
    Severity,
    Suppression,
    masked_repr,
)
from leakscan.suppress import Allowed

HISTORY_ONLY = (
    "This key is in the repository's history only: deleting the line does not help, because it is "
    "still in every clone. Rotate it first; rewriting history (git filter-repo) is optional clean-up, "
    "never the fix."
)
SAMPLE_REMEDIATION = (
    "Nothing to rotate: Stripe publishes this key in its documentation, and it opens nothing of "
    "yours. Use a test key of your own account instead, read from an environment variable."
)
NOTHING_ALLOWED = Allowed()
_CONFIDENCE_ORDER = (Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW)


class Occurrence(NamedTuple):
    """One match at one place, classified; combined into Findings."""

    rule_id: str
    secret: str
    location: Location
    severity: Severity
    confidence: Confidence
    context: tuple[str, ...]
    notes: tuple[str, ...]
    inline: Suppression | None

    def __repr__(self) -> str:
        return masked_repr(self, "secret")


def remediation(
    rules: RuleSet, rule: Rule, secret_sha: str, at_head: bool, exposure: Exposure | None = None
) -> str:
    """What to do: what the exposure window implies (a release tag: it is public), then the
    history-only warning when the key is gone from HEAD, then the rule's advice; for a published
    documentation sample (public, reported at info) there is nothing to rotate, and a publishable
    key is public by design whatever its window."""
    if rule.stripe and secret_sha in rules.documentation_sample_hashes:
        return SAMPLE_REMEDIATION
    advice = rule.remediation if at_head else f"{HISTORY_ONLY} {rule.remediation}"
    implied = window.implication(exposure) if rule.key_type != "publishable" else ""  # public
    return f"{implied} {advice}" if implied else advice


def with_exposure(
    rules: RuleSet, findings: Iterable[Finding], windows: dict[str, Exposure]
) -> tuple[Finding, ...]:
    """Each finding with its secret's exposure window (by sha256) and the remediation it implies."""
    out = []
    for f in findings:
        e = windows.get(f.secret_sha256)
        if e is not None:
            advice = remediation(
                rules, rules.rule(f.rule_id), f.secret_sha256, f.present_at_head, e
            )
            f = f._replace(exposure=e, remediation=advice)
        out.append(f)
    return tuple(out)


def from_occurrences(
    rules: RuleSet,
    occurrences: Iterable[Occurrence],
    allowed: Allowed = NOTHING_ALLOWED,
    present_at_head: Callable[[str], bool] = lambda _secret: True,
) -> tuple[Finding, ...]:
    """One Finding per (rule, secret, inline-allowed or not), with every location, sorted."""
    singles = (_single(rules, occ, allowed, present_at_head) for occ in occurrences)
    return merge_findings(rules, [singles])


def _single(
    rules: RuleSet, occ: Occurrence, allowed: Allowed, present_at_head: Callable[[str], bool]
) -> Finding:
    rule = rules.rule(occ.rule_id)
    sha = secret_sha256(occ.secret)
    at_head = present_at_head(occ.secret)
    suppressed = occ.inline or suppress.by_hash(occ.rule_id, sha, allowed)
    return Finding(
        rule_id=occ.rule_id,
        key_type=rule.key_type,
        mode=rule.mode,
        severity=occ.severity,
        confidence=occ.confidence,
        secret_sha256=sha,
        preview=preview(occ.secret),
        present_at_head=at_head,
        locations=(occ.location,),
        remediation=remediation(rules, rule, sha, at_head),
        context=occ.context,
        notes=occ.notes,
        suppressed=suppressed,
        secret=occ.secret,
        account=account_of(rule.key_type, occ.secret) if rule.stripe else None,
    )


def merge_findings(rules: RuleSet, parts: Iterable[Iterable[Finding]]) -> tuple[Finding, ...]:
    """One Finding per (rule, secret, inline-allowed or not), with every location of every part;
    at HEAD if it is at HEAD anywhere; sorted once. The secret's sha256 stands in for the secret,
    which scan-many's workers do not send back."""
    merger = Merger(rules)
    for part in parts:
        merger.add(part)
    return merger.findings()


class Merger:
    """`merge_findings` as the parts come in (scan-many's repositories and shards, as each finishes):
    one Finding per identity is kept, folded with each new one, so memory grows with the distinct
    secrets and their locations, never with the number of parts."""

    def __init__(self, rules: RuleSet) -> None:
        self._rules = rules
        # identity -> the finding so far, and the locations of every part (sorted once, at the end)
        self._groups: dict[tuple[str, str, bool], tuple[Finding, list[Location]]] = {}

    def add(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            inline = f.suppressed is not None and f.suppressed.kind == "inline"
            key = (f.rule_id, f.secret_sha256, inline)
            seen = self._groups.get(key)
            if seen is None:
                self._groups[key] = (f, [])
            else:
                seen[1].extend(f.locations)
                self._groups[key] = (_fold(seen[0], f), seen[1])

    def findings(self) -> tuple[Finding, ...]:
        merged = [f if not more else _finish(self._rules, f, more)
                  for f, more in self._groups.values()]  # fmt: skip
        return tuple(sorted(merged, key=finding_order))


def _fold(a: Finding, b: Finding) -> Finding:
    """Two findings of one secret as one (their locations are kept apart, see `Merger`)."""
    return a._replace(
        severity=max(a.severity, b.severity),
        confidence=min(a.confidence, b.confidence, key=_CONFIDENCE_ORDER.index),
        present_at_head=a.present_at_head or b.present_at_head,
        exposure=window.merge(a.exposure, b.exposure),
        context=tuple(dict.fromkeys((*a.context, *b.context))),
        notes=tuple(dict.fromkeys((*a.notes, *b.notes))),
        suppressed=a.suppressed if a.suppressed is not None else b.suppressed,
        secret=a.secret or b.secret,
    )


def _finish(rules: RuleSet, f: Finding, more: list[Location]) -> Finding:
    rule = rules.rule(f.rule_id)
    return f._replace(
        locations=tuple(sorted({*f.locations, *more}, key=location_order)),
        remediation=remediation(rules, rule, f.secret_sha256, f.present_at_head, f.exposure),
    )


def location_order(loc: Location) -> tuple[bool, float, str, str, int, int, str]:
    """Oldest author date first (the commit that introduced the key heads a finding's locations),
    then where (repository, path, line, column) and which commit. Locations without a date (a tree
    scan's) come after the dated ones, in the order of where they are."""
    stamp = _timestamp(loc.author_date) if loc.author_date else None
    where = (loc.repository or "", loc.path, loc.line, loc.column, loc.commit or "")
    return (stamp is None, stamp or 0.0, *where)


def _timestamp(date: str) -> float | None:
    """Seconds since the epoch of git's strict ISO 8601 author date (offsets differ per author, so
    the text alone does not sort); None for a date that does not parse."""
    # Only history reports have dates: a tree scan does without the import (~3 ms).
    from datetime import datetime

    try:
        return datetime.fromisoformat(date).timestamp()
    except ValueError:
        return None


def finding_order(f: Finding) -> tuple[int, str, str, int, int, str, str]:
    """Worst first, then where it is first seen (repository, path, line, column), then rule and
    hash: a total order, so every report is deterministic."""
    first = f.locations[0]
    where = (first.repository or "", first.path, first.line, first.column)
    return (-f.severity, *where, f.rule_id, f.secret_sha256)


def failing(findings: Iterable[Finding], fail_on: Severity | None) -> list[Finding]:
    """Unsuppressed findings at or above `fail_on` (None: nothing fails)."""
    if fail_on is None:
        return []
    return [f for f in findings if f.suppressed is None and f.severity >= fail_on]
