"""Which SARIF rules a log describes, and which one each result is filed under (report/sarif.py).

GitHub code scanning and DefectDojo read `security-severity` from the rule, never the result, so a
finding whose severity differs from its rule's (a documentation sample at info, a key in client-side
code one step up, a look-alike lowered) is filed under a variant rule `<rule id>/<why>` at the
finding's severity. One id always has one severity: a `-<severity>` suffix is added whenever the
reason alone does not fix it.
"""

from __future__ import annotations

from leakscan.model import Finding, Rule, RuleSet, Severity

VARIANT_TITLES = {
    "docs-sample": "a Stripe documentation sample",
    "client-side": "in code shipped to browsers or apps",
    "lookalike": "possibly another vendor's token",
}


def unique_rules(rules: RuleSet) -> list[Rule]:
    """Rules in their loaded order, each id once (a later duplicate never shadows the first)."""
    seen: dict[str, Rule] = {}
    for rule in rules.rules:
        seen.setdefault(rule.id, rule)
    return list(seen.values())


def descriptor_rules(rules: RuleSet, findings: list[Finding]) -> list[Rule]:
    """Every rule, then one variant for each (rule, severity) of a finding that differs from its
    rule's, in the order the findings come: what the driver's `rules` list describes."""
    out = unique_rules(rules)
    known = {rule.id for rule in out}
    for f in findings:
        variant = variant_rule(f, rules.rule(f.rule_id), rules.sample_note)
        if variant.id not in known:
            known.add(variant.id)
            out.append(variant)
    return out


def variant_rule(f: Finding, rule: Rule, sample_note: str) -> Rule:
    """The rule a result is reported under: its own, or a variant at the finding's severity."""
    if f.severity == rule.severity:
        return rule
    why = _why_not_default(f, rule, sample_note)
    phrase = VARIANT_TITLES.get(why, f"at {f.severity.label}")
    expected = {"docs-sample": Severity.INFO, "client-side": rule.severity.raised()}
    if why not in expected or expected[why] != f.severity:
        why = f"{why}-{f.severity.label}" if why in VARIANT_TITLES else why
    return rule._replace(
        id=f"{rule.id}/{why}",
        title=f"{rule.title} ({phrase})",
        description=f"{rule.description or rule.title} Reported at {f.severity.label}: {phrase}.",
        severity=f.severity,
    )


def _why_not_default(f: Finding, rule: Rule, sample_note: str) -> str:
    if sample_note and sample_note in f.notes:
        return "docs-sample"
    if f.severity > rule.severity and f.context:
        return "client-side"
    if f.confidence.value == "low":
        return "lookalike"
    return f.severity.label
