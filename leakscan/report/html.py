"""HTML report: one self-contained page to read in a browser or attach to a ticket.

Inline CSS (allowed by its sha256 in a strict Content-Security-Policy) and inline SVG; no script, no
font, nothing fetched. Jinja2 with autoescaping writes every value; this module only shapes them
(summary, accounts, timeline, repositories, findings). Always redacted: no raw key reaches the
template, whatever --show-secrets says (the secret field is never read here).
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

import jinja2

from leakscan import exposure
from leakscan.accounts import AccountGroup, describe, group_by_account, kind_label, together_line
from leakscan.model import Finding, Location, RuleSet, ScanResult, Severity
from leakscan.report.options import RenderOptions
from leakscan.report.text import kind_phrase

if TYPE_CHECKING:
    from typing import Any

MAX_BARS = 60  # timeline rows: the worst secrets; the rest are counted under it
MAX_LOCATIONS = 20  # per finding; the rest are counted
CHART_LEFT, CHART_WIDTH, ROW = 230, 720, 20
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


class Bar(NamedTuple):
    y: int
    x: float
    width: float
    severity: str
    label: str
    title: str  # the tooltip: what the bar spans
    at_head: bool


class Timeline(NamedTuple):
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    omitted: int


class RepoRow(NamedTuple):
    name: str
    severity: str
    findings: int


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("leakscan.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = env.loader.get_source(env, "report.css")[0] if env.loader else ""
    shown = [f for f in result.findings if f.suppressed is None]
    page = env.get_template("report.html.j2").render(
        css=css,
        csp=content_security_policy(css),
        summary=result.summary,
        tool_version=options.tool_version,
        severities=_severity_counts(shown),
        suppressed=len(result.findings) - len(shown),
        accounts=[_account(g) for g in group_by_account(shown)],
        repository_count=len(
            {
                loc.repository
                for f in result.findings
                for loc in f.locations
                if loc.repository is not None
            }
        ),
        timeline=timeline(shown),
        repositories=repositories(shown),
        findings=[_finding(f, rules) for f in shown],
    )
    return page if page.endswith("\n") else page + "\n"


def content_security_policy(css: str) -> str:
    """Nothing may load or run; only the page's own style sheet, allowed by its hash."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; script-src 'none'; "
            "base-uri 'none'; form-action 'none'")  # fmt: skip


def _severity_counts(findings: list[Finding]) -> list[tuple[str, int]]:
    counts = {s: 0 for s in sorted(Severity, reverse=True)}
    for f in findings:
        counts[f.severity] += 1
    return [(s.label, n) for s, n in counts.items()]


def _account(g: AccountGroup) -> dict[str, Any]:
    return {
        "preview": g.account.preview,
        "severity": g.severity.label,
        "summary": describe(g).split(": ", 1)[1],  # the table's first column names the account
        "exposed": [f"{kind_label(f)} {f.preview}" for f in g.findings],
        "together": [together_line(path) for path in g.together],
        "single": len(g.findings) == 1,  # one key: listed under a fold, the findings say it all
    }


def _finding(f: Finding, rules: RuleSet) -> dict[str, Any]:
    rule = rules.rule(f.rule_id)
    return {
        "anchor": f"f-{f.secret_sha256[:16]}",
        "title": rule.title,
        "rule_id": f.rule_id,
        "severity": f.severity.label,
        "preview": f.preview,
        "kind": kind_phrase(f.key_type, f.mode),
        "confidence": f.confidence.value,
        "at_head": f.present_at_head,
        "account": f.account.preview if f.account else None,
        "exposure": exposure.summary(f.exposure) if f.exposure else None,
        "locations": [_where(loc) for loc in f.locations[:MAX_LOCATIONS]],
        "more_locations": max(0, len(f.locations) - MAX_LOCATIONS),
        "context": list(f.context),
        "notes": list(f.notes),
        **_advice(f),
        "sha256": f.secret_sha256,
    }


def _advice(f: Finding) -> dict[str, Any]:
    """What the exposure window implies, said first as a fact; then the steps to tick off."""
    implied = exposure.implication(f.exposure)
    if implied and f.remediation.startswith(implied):
        return {"implied": implied, "steps": checklist(f.remediation[len(implied) :])}
    return {"implied": "", "steps": checklist(f.remediation)}


def checklist(remediation: str) -> list[str]:
    """A remediation's sentences, one step each."""
    return [s.strip() for s in _SENTENCE_END.split(remediation) if s.strip()]


def _where(loc: Location) -> str:
    where = f"{loc.path}:{loc.line}:{loc.column}"
    if loc.repository is not None:
        where = f"{loc.repository}: {where}"
    if loc.commit:
        where += f" · commit {loc.commit[:12]}"
        if loc.author_date:
            where += f" ({loc.author_date[:10]})"
    if loc.encoding != "plain":
        where += f" [{loc.encoding}]"
    return where


def repositories(findings: list[Finding]) -> list[RepoRow]:
    """scan-many: each repository with its worst severity and how many secrets it holds, worst first
    (empty for a single repository)."""
    worst: dict[str, Severity] = {}
    counts: dict[str, int] = {}
    for f in findings:
        for name in {loc.repository for loc in f.locations if loc.repository is not None}:
            worst[name] = max(worst.get(name, Severity.INFO), f.severity)
            counts[name] = counts.get(name, 0) + 1
    order = sorted(worst, key=lambda n: (-worst[n], -counts[n], n))
    return [RepoRow(n, worst[n].label, counts[n]) for n in order]


def timeline(findings: list[Finding]) -> Timeline | None:
    """One bar per secret (the worst MAX_BARS), from the commit that added it to the one that removed
    it, or to HEAD; None when no finding has an exposure window (a tree scan)."""
    dated = [(f, _span(f)) for f in findings if f.exposure is not None]
    spans = [(f, s) for f, s in dated if s is not None]
    if not spans:
        return None
    shown = spans[:MAX_BARS]
    start = min(s[0] for _, s in shown)
    end = max(max(s[1] for _, s in shown), start + 86400)
    scale = CHART_WIDTH / (end - start)
    bars = []
    for i, (f, (a, b)) in enumerate(shown):
        e = f.exposure
        assert e is not None
        x, width = CHART_LEFT + (a - start) * scale, max(3.0, (b - a) * scale)
        label = f"{f.preview} {f.locations[0].repository or ''}".strip()
        bars.append(
            Bar(30 + i * ROW, x, width, f.severity.label, label, exposure.summary(e), e.at_head)
        )
    form = "%Y-%m-%d" if end - start > 10 * 86400 else "%m-%d %H:%M"  # short spans: hours too
    ticks = tuple((CHART_LEFT + k * CHART_WIDTH / 5, _day(start + k * (end - start) / 5, form))
                  for k in range(6))  # fmt: skip
    height = 30 + len(bars) * ROW + 10
    return Timeline(
        CHART_LEFT + CHART_WIDTH + 50, height, tuple(bars), ticks, len(spans) - len(shown)
    )


def _span(f: Finding) -> tuple[float, float] | None:
    e = f.exposure
    if e is None:
        return None
    try:
        a = datetime.fromisoformat(e.introduced_date).timestamp()
        b = datetime.fromisoformat(e.removed_date).timestamp() if e.removed_date else None
    except ValueError:
        return None
    return a, b if b is not None else a + e.days * 86400


def _day(stamp: float, form: str) -> str:
    return datetime.fromtimestamp(stamp, tz=UTC).strftime(form)
