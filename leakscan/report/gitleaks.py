"""gitleaks' JSON report (`--format gitleaks-json`), for tools that import it (DefectDojo's "Gitleaks
Scan", dashboards): a list with one object per location of an unsuppressed finding, in the field
names and types of gitleaks' `report.Finding` (v8). docs/formats.md maps each field."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import TYPE_CHECKING

from leakscan.model import Finding, Location, Rule, RuleSet, ScanResult
from leakscan.report.options import RenderOptions

if TYPE_CHECKING:
    from typing import Any


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    # Suppressed findings are left out, as gitleaks leaves out allowlisted ones: an importer has no
    # field that says "accepted", so it would open them as new findings.
    items = [
        item(f, loc, rules.rule(f.rule_id), options.show_secrets)
        for f in result.findings
        if f.suppressed is None
        for loc in f.locations
    ]
    return json.dumps(items, indent=1, ensure_ascii=False) + "\n"


def item(f: Finding, loc: Location, rule: Rule, show_secrets: bool) -> dict[str, Any]:
    shown = f.secret if show_secrets and f.secret else f.preview
    commit = loc.commit or ""
    return {
        "RuleID": f.rule_id,
        "Description": rule.title or f.rule_id,  # DefectDojo rejects an object without one
        "StartLine": loc.line,
        "EndLine": loc.line,
        "StartColumn": loc.column,
        "EndColumn": loc.end_column - 1,  # gitleaks' end column is the last character's
        "Match": shown,
        "Secret": shown,
        "File": loc.path,
        "SymlinkFile": "",
        "Commit": commit,
        "Entropy": entropy(f.secret),
        "Author": "",
        "Email": "",
        "Date": loc.author_date or "",
        "Message": "",
        "Tags": tags(f, loc),
        "Fingerprint": fingerprint(f.rule_id, loc),
    }


def tags(f: Finding, loc: Location) -> list[str]:
    out = [f"severity:{f.severity.label}", f"key-type:{f.key_type}"]
    if f.mode:
        out.append(f"mode:{f.mode}")
    out.append(f"confidence:{f.confidence.value}")
    if loc.encoding != "plain":
        out.append(f"encoding:{loc.encoding}")
    return out


def fingerprint(rule_id: str, loc: Location) -> str:
    """gitleaks' own: `commit:file:rule:line` for a git scan, `file:rule:line` for a directory, so a
    `.gitleaksignore` written from this report reads the same."""
    where = f"{loc.path}:{rule_id}:{loc.line}"
    return f"{loc.commit}:{where}" if loc.commit else where


def entropy(secret: str) -> float:
    """Shannon entropy in bits per character, as gitleaks reports it (0 when the key was dropped,
    as scan-many does)."""
    if not secret:
        return 0.0
    n = len(secret)
    bits = -sum(c / n * math.log2(c / n) for c in Counter(secret).values())
    return round(bits, 6)
