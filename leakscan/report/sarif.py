"""SARIF 2.1.0 for GitHub code scanning (DESIGN §5), built with sarif-om and jschema-to-python.

One run; one rule per rule id, and one more per (rule id, severity) a finding has that differs from
its rule's (`stripe.secret-key.test/docs-sample` at info, `stripe.restricted-key.live/client-side`
at critical): GitHub code scanning and DefectDojo take `security-severity` from the rule, never the
result, so this is the only way the severity they show equals leakscan's. One result per finding
(one secret), its first location primary and the others related. Never a raw key, not even with
--show-secrets (docs/integrations.md says why).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import sarif_om as om
from jschema_to_python import to_json as jschema

from leakscan import exposure
from leakscan.model import Exposure, Finding, Location, Rule, RuleSet, ScanResult, Severity
from leakscan.report.options import RenderOptions
from leakscan.report.sarif_rules import descriptor_rules, variant_rule

if TYPE_CHECKING:
    from typing import Any

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000  # GitHub code scanning rejects runs with more results
MAX_RELATED = 100  # GitHub shows at most 100 related locations per result
FINGERPRINT_KEY = "leakscan/secret-sha256/v1"
SRCROOT = "%SRCROOT%"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads these as critical (>= 9.0), high (>= 7.0), medium (>= 4.0) and low (> 0). Info has
# no security-severity: GitHub then shows the level, `note`, not a "low" it would make of 0.1.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.0",
    Severity.LOW: "3.0",
}
SUPPRESSION_KINDS = {"inline": "inSource", "baseline": "external", "config": "external"}


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    return serialize(build_log(result, rules, options)) + "\n"


def serialize(log: om.SarifLog) -> str:
    """What `jschema_to_python.to_json` produces, compact and without its deep copies.

    to_json deep-copies every object's whole subtree at every level, which took 27 s for 25,000
    results; json.dumps calls jschema-to-python's own per-object steps (drop fields equal to their
    default, rename to the schema's names) on a shallow copy instead. A test checks the two agree.
    """
    return json.dumps(log, default=_schema_dict, ensure_ascii=False)


def _schema_dict(obj: object) -> object:
    if not hasattr(obj, "__dict__"):
        return str(obj)
    fields = dict(obj.__dict__)
    jschema._remove_properties_with_default_values(obj, fields)
    jschema._change_python_property_names_to_schema_property_names(obj, fields)
    return fields


def build_log(result: ScanResult, rules: RuleSet, options: RenderOptions) -> om.SarifLog:
    ordered = sorted(result.findings, key=lambda f: f.suppressed is not None)  # stable: worst first
    kept = ordered[:MAX_RESULTS]
    descriptors = descriptor_rules(rules, kept)
    index = {d.id: i for i, d in enumerate(descriptors)}
    driver = om.ToolComponent(
        name="leakscan",
        version=options.tool_version or None,
        semantic_version=options.tool_version or None,
        rules=[_descriptor(d) for d in descriptors],
    )
    run = om.Run(
        tool=om.Tool(driver=driver),
        automation_details=om.RunAutomationDetails(id=f"leakscan/{result.summary.mode}/"),
        column_kind="unicodeCodePoints",
        results=[_result(f, rules.rule(f.rule_id), index, rules.sample_note) for f in kept],
        invocations=[_invocation(result, len(ordered))],
        properties=_bag(
            {
                "leakscan/mode": result.summary.mode,
                "leakscan/totalResults": len(ordered),
                "leakscan/truncated": len(ordered) > MAX_RESULTS,
            }
        ),
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def truncated(result: ScanResult) -> bool:
    return len(result.findings) > MAX_RESULTS


def _descriptor(rule: Rule) -> om.ReportingDescriptor:
    markdown = f"**What to do**\n\n{rule.remediation}"
    if rule.references:
        markdown += "\n\n" + "\n".join(f"- <{ref}>" for ref in rule.references)
    return om.ReportingDescriptor(
        id=rule.id,
        name=_pascal(rule.id),
        short_description=om.MultiformatMessageString(text=rule.title),
        full_description=om.MultiformatMessageString(text=rule.description or rule.title),
        help=om.MultiformatMessageString(text=rule.remediation, markdown=markdown),
        help_uri=rule.references[0] if rule.references else None,
        default_configuration=om.ReportingConfiguration(level=LEVELS[rule.severity]),
        properties=_bag(
            {
                **_security_severity(rule.severity),
                "precision": "high" if rule.stripe else "medium",
            },
            tags=list(dict.fromkeys(["security", "secret", "external/cwe/cwe-798", rule.key_type])),
        ),
    )


def _security_severity(severity: Severity) -> dict[str, str]:
    score = SECURITY_SEVERITY.get(severity)
    return {"security-severity": score} if score else {}


def _result(f: Finding, rule: Rule, index: dict[str, int], sample_note: str) -> om.Result:
    reported = variant_rule(f, rule, sample_note)
    first, *others = f.locations
    props: dict[str, Any] = {
        "leakscanRuleId": f.rule_id,
        "severity": f.severity.label,
        "confidence": f.confidence.value,
        "preview": f.preview,
        "presentAtHead": f.present_at_head,
        "secretSha256": f.secret_sha256,
        "locationCount": len(f.locations),
    }
    if first.commit:
        props["commit"] = first.commit
    if first.author_date:
        props["authorDate"] = first.author_date
    if f.context:
        props["context"] = list(f.context)
    if f.notes:
        props["notes"] = list(f.notes)
    if f.account is not None:  # the same on every result of one Stripe account (accounts.py)
        props["accountSha256"] = f.account.sha256
        props["accountPreview"] = f.account.preview
    if f.exposure is not None:
        props["exposure"] = _exposure(f.exposure)
    if f.verification is not None:  # --verify: what Stripe's API said (never the key)
        v = f.verification
        props["verification"] = {"status": v.status, "checkedAt": v.checked_at,
                                 "httpStatus": v.http_status, "reason": v.reason}  # fmt: skip
    fingerprint = f.secret_sha256 + ("/inline-allowed" if _kind(f) == "inline" else "")
    return om.Result(
        rule_id=reported.id,
        rule_index=index[reported.id],
        level=LEVELS[f.severity],
        message=om.Message(text=_message(f, rule)),
        locations=[_location(first)],
        related_locations=[
            _location(loc, i, "Also here.") for i, loc in enumerate(others[:MAX_RELATED], 1)
        ]
        or None,
        partial_fingerprints={FINGERPRINT_KEY: fingerprint},
        suppressions=_suppressions(f),
        properties=_bag(props, tags=[f.key_type] + ([f.mode] if f.mode else [])),
    )


def _exposure(e: Exposure) -> dict[str, Any]:
    return {"introduced": e.introduced, "introducedDate": e.introduced_date,
            "lastPresent": e.last_present, "removed": e.removed, "removedDate": e.removed_date,
            "atHead": e.at_head, "days": e.days, "refs": list(e.refs),
            "shipped": exposure.shipped(e)}  # fmt: skip


def _message(f: Finding, rule: Rule) -> str:
    where = "" if f.present_at_head else " (in the history only)"
    first = f.locations[0]
    commit = f" in commit {first.commit[:12]}" if first.commit else ""
    more = f", and in {len(f.locations) - 1} more place(s)" if len(f.locations) > 1 else ""
    parts = [f"{rule.title} {f.preview} ({f.severity.label}){where}{commit}{more}."]
    if f.exposure is not None:
        line = exposure.summary(f.exposure)
        parts.append(f"{line[:1].upper()}{line[1:]}.")
    parts += [f"{c[:1].upper()}{c[1:]}." for c in f.context]
    parts += list(f.notes)
    parts.append(f"What to do: {f.remediation}")
    return " ".join(parts)


def _location(loc: Location, ident: int | None = None, message: str | None = None) -> om.Location:
    props: dict[str, Any] = {}
    if loc.commit:
        props["commit"] = loc.commit
    if loc.author_date:
        props["authorDate"] = loc.author_date
    if loc.encoding != "plain":
        props["encoding"] = loc.encoding
    if loc.repository:
        props["repository"] = loc.repository
    uri, base = artifact_uri(loc.path)
    text = message
    if message and loc.commit:
        text = f"{message[:-1]} (commit {loc.commit[:12]})."
    return om.Location(
        id=ident if ident is not None else -1,
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=uri, uri_base_id=base),
            region=om.Region(
                start_line=loc.line, start_column=loc.column, end_column=loc.end_column
            ),
        ),
        message=om.Message(text=text) if text else None,
        properties=_bag(props) if props else None,
    )


def artifact_uri(path: str) -> tuple[str, str | None]:
    """A relative POSIX path percent-encoded under %SRCROOT%; an absolute one as a file: URI."""
    posix = path.replace("\\", "/")
    quoted = urllib.parse.quote(posix, safe="/")
    if PurePosixPath(posix).is_absolute():
        return "file://" + quoted, None
    return quoted.removeprefix("./"), SRCROOT


def _suppressions(f: Finding) -> list[om.Suppression] | None:
    if f.suppressed is None:
        return None
    s = om.Suppression(kind=SUPPRESSION_KINDS.get(f.suppressed.kind, "external"))
    s.justification = f.suppressed.reason
    s.status = "accepted"  # sarif-om names this field `state`; SARIF calls it `status`
    return [s]


def _kind(f: Finding) -> str | None:
    return f.suppressed.kind if f.suppressed else None


def _invocation(result: ScanResult, total: int) -> om.Invocation:
    notes = []
    if total > MAX_RESULTS:
        notes.append(
            om.Notification(
                level="warning",
                message=om.Message(text=cap_message(total)),
                descriptor=om.ReportingDescriptorReference(id="leakscan/results-capped"),
            )
        )
    for k in result.summary.skipped:
        if k.incomplete:
            notes.append(
                om.Notification(
                    level="error",
                    message=om.Message(text=f"{k.path}: {k.reason}"),
                    descriptor=om.ReportingDescriptorReference(id="leakscan/incomplete"),
                )
            )
    complete = not any(k.incomplete for k in result.summary.skipped)
    return om.Invocation(execution_successful=complete, tool_execution_notifications=notes or None)


def cap_message(total: int) -> str:
    return (
        f"leakscan found {total} results; this SARIF holds the first {MAX_RESULTS} (worst first), "
        "the most GitHub code scanning accepts in one run. The JSON report (--format json) has all."
    )


def _bag(values: dict[str, Any], tags: list[str] | None = None) -> om.PropertyBag:
    """Custom properties go on a property bag; sarif-om models only `tags`, so set the rest."""
    bag = om.PropertyBag(tags=tags)
    for key, value in values.items():
        setattr(bag, key, value)
    return bag


def _pascal(rule_id: str) -> str:
    """`stripe.secret-key.live` -> `StripeSecretKeyLive` (SARIF `name`: an identifier, not prose)."""
    words = re.split(r"[^A-Za-z0-9]+", rule_id)
    return "".join(w[:1].upper() + w[1:] for w in words if w)
