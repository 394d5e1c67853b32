"""JSON report: the versioned contract of DESIGN §5 (add fields, never rename)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from leakscan import exposure
from leakscan.accounts import AccountGroup, describe, group_by_account, kind_label
from leakscan.model import Exposure, Finding, Location, RuleSet, ScanResult, Verification
from leakscan.report.options import RenderOptions

if TYPE_CHECKING:
    from typing import Any

VERSION = 1


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    s = result.summary
    doc = {
        "version": VERSION,
        "tool": {"name": "leakscan", "version": options.tool_version},
        "scan": {
            "target": s.target,
            "mode": s.mode,
            "files": s.files,
            "blobs": s.blobs,
            "bytes": s.bytes,
            "skipped": [
                {"path": k.path, "reason": k.reason, "incomplete": k.incomplete} for k in s.skipped
            ],
            "notes": list(s.notes),
        },
        "findings": [finding_dict(f, rules, options.show_secrets) for f in result.findings],
        "accounts": [account_dict(g) for g in group_by_account(result.findings)],
    }
    if s.stale_baseline is not None:
        doc["scan"]["stale_baseline_entries"] = [  # type: ignore[index]
            {"rule_id": e.rule_id, "secret_sha256": e.secret_sha256, "key_type": e.key_type,
             "mode": e.mode, "preview": e.preview}
            for e in s.stale_baseline
        ]  # fmt: skip
    if s.fixed is not None:
        doc["scan"]["fixed"] = [  # type: ignore[index]
            {"rule_id": f.rule_id, "secret_sha256": f.secret_sha256, "key_type": f.key_type,
             "mode": f.mode, "severity": f.severity.label, "preview": f.preview,
             "repositories": sorted({loc.repository or "" for loc in f.locations})}
            for f in s.fixed
        ]  # fmt: skip
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def finding_dict(f: Finding, rules: RuleSet, show_secrets: bool) -> dict[str, Any]:
    rule = rules.rule(f.rule_id)
    out: dict[str, Any] = {
        "rule_id": f.rule_id,
        "title": rule.title,
        "key_type": f.key_type,
        "mode": f.mode,
        "severity": f.severity.label,
        "secret_sha256": f.secret_sha256,
        "preview": f.preview,
        "present_at_head": f.present_at_head,
        "confidence": f.confidence.value,
        "context": list(f.context),
        "notes": list(f.notes),
        "remediation": f.remediation,
        "locations": [location_dict(loc) for loc in f.locations],
        "suppressed": None
        if f.suppressed is None
        else {"kind": f.suppressed.kind, "reason": f.suppressed.reason},
        "verification": None if f.verification is None else verification_dict(f.verification),
    }
    if f.status is not None:
        out["status"] = f.status
    out["account"] = None if f.account is None else {"sha256": f.account.sha256,
                                                      "preview": f.account.preview}  # fmt: skip
    out["exposure"] = None if f.exposure is None else exposure_dict(f.exposure)
    if show_secrets:
        out["secret"] = f.secret
    return out


def exposure_dict(e: Exposure) -> dict[str, Any]:
    return {
        "introduced": e.introduced,
        "introduced_date": e.introduced_date,
        "last_present": e.last_present,
        "removed": e.removed,
        "removed_date": e.removed_date,
        "at_head": e.at_head,
        "days": e.days,
        "refs": list(e.refs),
        "default_branch": e.default_branch,
        "shipped": exposure.shipped(e),
        "summary": exposure.summary(e),
    }


def account_dict(g: AccountGroup) -> dict[str, Any]:
    return {
        "sha256": g.account.sha256,
        "preview": g.account.preview,
        "severity": g.severity.label,
        "key_types": list(dict.fromkeys(kind_label(f) for f in g.findings)),
        "summary": describe(g),
        "together": list(g.together),
        "findings": [{"rule_id": f.rule_id, "secret_sha256": f.secret_sha256} for f in g.findings],
    }


def location_dict(loc: Location) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": loc.path,
        "line": loc.line,
        "column": loc.column,
        "end_column": loc.end_column,
        "commit": loc.commit,
        "author_date": loc.author_date,
        "encoding": loc.encoding,
    }
    if loc.repository is not None:
        out["repository"] = loc.repository
    return out


def verification_dict(v: Verification) -> dict[str, Any]:
    return {
        "status": v.status,
        "checked_at": v.checked_at,
        "http_status": v.http_status,
        "reason": v.reason,
    }
