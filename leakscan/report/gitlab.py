"""GitLab secret-detection report (`gl-secret-detection-report.json`), schema 15.0.7: what GitLab's
`artifacts: reports: secret_detection` reads to show findings in merge requests and the vulnerability
report. One vulnerability per unsuppressed finding (one secret), at its first location (the commit
that introduced it in a history scan); never the raw key, not even with --show-secrets.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

from leakscan import exposure
from leakscan.model import Finding, RuleSet, ScanResult, Severity
from leakscan.report.options import RenderOptions

if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = "15.0.7"
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/secret-detection-report-format.json"
)
NO_COMMIT = "0000000"  # what GitLab's own analyzer writes for a file outside history (a tree scan)
SEVERITIES = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
}
TOOL = {"id": "leakscan", "name": "leakscan", "vendor": {"name": "leakscan"}}
_NAMESPACE = uuid.UUID("5f0c4d7e-55a1-4c36-9d33-2b0b7a3e4c19")  # leakscan's, for stable uuid5 ids


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    end = time.time()
    tool = {**TOOL, "version": options.tool_version or "0"}
    complete = not any(k.incomplete for k in result.summary.skipped)
    doc = {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "secret_detection",
            "start_time": _stamp(end - result.summary.seconds),
            "end_time": _stamp(end),
            "status": "success" if complete else "failure",
        },
        "vulnerabilities": [
            _vulnerability(f, rules) for f in result.findings if f.suppressed is None
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _stamp(seconds: float) -> str:
    """`2026-01-28T03:26:02`: the schema's UTC format, without a zone."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _vulnerability(f: Finding, rules: RuleSet) -> dict[str, Any]:
    rule = rules.rule(f.rule_id)
    first = f.locations[0]
    commit: dict[str, Any] = {"sha": first.commit or NO_COMMIT}
    if first.author_date:
        commit["date"] = first.author_date
    path = f"{first.repository}/{first.path}" if first.repository else first.path
    description = f"{rule.title} {f.preview} ({f.severity.label})"
    if f.exposure is not None:
        description += f"; {exposure.summary(f.exposure)}"
    if len(f.locations) > 1:
        description += f"; found in {len(f.locations)} places"
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"{f.rule_id}:{f.secret_sha256}")),
        "category": "secret_detection",
        "name": rule.title,
        "description": description + ".",
        "severity": SEVERITIES[f.severity],
        "confidence": f.confidence.value.capitalize(),
        "solution": f.remediation[:7000],
        "scanner": {"id": "leakscan", "name": "leakscan"},
        "location": {
            "file": path,
            "start_line": first.line,
            "end_line": first.line,
            "commit": commit,
        },
        "identifiers": [
            {"type": "leakscan_rule_id", "name": f"leakscan rule {f.rule_id}", "value": f.rule_id}
        ],
    }
