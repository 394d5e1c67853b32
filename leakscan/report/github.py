"""GitHub Actions: workflow-command annotations and a Markdown step summary (DESIGN §8)."""

from __future__ import annotations

import html

from leakscan.findings import failing
from leakscan.model import Finding, RuleSet, ScanResult, Severity
from leakscan.report.options import RenderOptions

MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error and 10 warning annotations per step
MAX_SUMMARY_BYTES = 1024 * 1024  # GitHub rejects a step summary above 1 MiB
_RESERVE = 8 * 1024  # room for the remediation section and the closing line
_COMMANDS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning"}


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    """`--format github`: at most 10 annotations, then one line about the rest."""
    return "".join(line + "\n" for line in annotation_lines(result, rules))


def annotation_lines(result: ScanResult, rules: RuleSet) -> list[str]:
    active = [f for f in result.findings if f.suppressed is None]
    lines = [_annotation(f, rules) for f in active[:MAX_ANNOTATIONS]]
    rest = len(active) - MAX_ANNOTATIONS
    if rest > 0:
        lines.append(
            f"::notice title=leakscan::{rest} more finding(s) not annotated (GitHub shows at most "
            f"{MAX_ANNOTATIONS}); see the step summary or the SARIF report for all of them."
        )
    return lines


def _annotation(f: Finding, rules: RuleSet) -> str:
    loc = f.locations[0]
    command = _COMMANDS.get(f.severity, "notice")
    title = f"{rules.rule(f.rule_id).title} ({f.severity.label})"
    props = {
        "file": loc.path,
        "line": str(loc.line),
        "col": str(loc.column),
        "endColumn": str(loc.end_column),
        "title": title,
    }
    commit = f" in commit {loc.commit[:12]}" if loc.commit else ""
    history = (
        "" if f.present_at_head else " It is in the history only; deleting the line does not help."
    )
    message = f"{f.preview}{commit}.{history}\nWhat to do: {f.remediation}"
    fields = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{command} {fields}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def summary(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: verdict, counts, a table, what to do; never above 1 MiB."""
    active = [f for f in result.findings if f.suppressed is None]
    verdict = "failing" if failing(result.findings, options.fail_on) else "passing"
    threshold = options.fail_on.label if options.fail_on is not None else "never"
    s = result.summary
    head = [
        "## leakscan: Stripe credentials",
        "",
        f"**{len(active)} finding(s)**, {verdict} (`--fail-on {threshold}`). Scanned {s.mode}: "
        f"{s.blobs or s.files} {'blobs' if s.blobs else 'files'}."
        + (
            f" {len(result.findings) - len(active)} suppressed."
            if len(active) < len(result.findings)
            else ""
        ),
        "",
        "| severity | findings |",
        "|---|---|",
        *(f"| {sev.label} | {n} |" for sev, n in _counts(active)),
        "",
    ]
    tail = _remediation(active, rules)
    if not active:
        return "\n".join(head + ["No unsuppressed Stripe credentials found.", ""])
    rows = ["| severity | key | where | rule |", "|---|---|---|---|"]
    budget = MAX_SUMMARY_BYTES - _RESERVE - _size(head) - _size(tail)
    used = _size(rows)
    shown = 0
    for f in active:
        row = _row(f, rules)
        if used + len(row.encode("utf-8")) + 1 > budget:
            break
        rows.append(row)
        used += len(row.encode("utf-8")) + 1
        shown += 1
    if shown < len(active):
        rows += ["", (f"… and {len(active) - shown} more finding(s) not shown here (GitHub limits a "
                 "step summary to 1 MiB); the SARIF and JSON reports have all of them.")]  # fmt: skip
    text = "\n".join(head + rows + [""] + tail)
    return _clip(text)


def _counts(active: list[Finding]) -> list[tuple[Severity, int]]:
    counts: dict[Severity, int] = {}
    for f in active:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return sorted(counts.items(), reverse=True)


def _row(f: Finding, rules: RuleSet) -> str:
    loc = f.locations[0]
    where = f"{loc.path}:{loc.line}:{loc.column}"
    if loc.commit:
        where += f" @ {loc.commit[:12]}"
    if len(f.locations) > 1:
        where += f" (+{len(f.locations) - 1} more)"
    if not f.present_at_head:
        where += " (history only)"
    cells = [
        f"**{f.severity.label}**",
        _code(f.preview),
        _code(where),
        _cell(rules.rule(f.rule_id).title),
    ]
    return "| " + " | ".join(cells) + " |"


def _remediation(active: list[Finding], rules: RuleSet) -> list[str]:
    if not active:
        return []
    lines = ["### What to do", ""]
    for rule_id in dict.fromkeys(f.rule_id for f in active):
        rule = rules.rule(rule_id)
        lines += [f"**{_cell(rule.title)}**: {_cell(rule.remediation)}", ""]
    if any(not f.present_at_head for f in active):
        lines += [("**History-only findings**: deleting the line does not help; the key is still in "
                  "every clone. Rotate first; rewriting history is optional clean-up, never the fix."),
                  ""]  # fmt: skip
    return lines


def _code(text: str) -> str:
    return f"<code>{_cell(text)}</code>"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no pipes, one line."""
    one_line = " ".join(text.split())
    return html.escape(one_line, quote=False).replace("|", "&#124;")


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _clip(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_SUMMARY_BYTES:
        return text
    return data[: MAX_SUMMARY_BYTES - 4].decode("utf-8", "ignore") + "\n…\n"
