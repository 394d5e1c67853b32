"""GitHub Actions: workflow-command annotations and a Markdown step summary (DESIGN §8)."""

from __future__ import annotations

import html

from leakscan.findings import failing
from leakscan.model import Finding, RuleSet, ScanResult, Severity
from leakscan.report.options import RenderOptions

# GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (and 50 per job):
# https://github.com/orgs/community/discussions/68471 and the Actions "usage limits" docs.
ANNOTATION_LIMITS = {"error": 10, "warning": 10, "notice": 10}
MAX_SUMMARY_BYTES = 1024 * 1024  # GitHub rejects a step summary above 1 MiB
_RESERVE = 8 * 1024  # room for the remediation section and the closing line
_COMMANDS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning"}
_LIVE_ACTION = "Rotate this key now in the Stripe Dashboard and expire the old one at once"
_ACTIONS = {  # (key type, mode) -> one line; the full remediation is in the step summary
    ("secret", "live"): _LIVE_ACTION,
    ("restricted", "live"): _LIVE_ACTION,
    ("organization", "live"): _LIVE_ACTION,
    ("secret", "test"): "Rotate this test key and move it out of the code",
    ("restricted", "test"): "Rotate this test key and move it out of the code",
    ("organization", "test"): "Rotate this test key and move it out of the code",
    ("webhook_secret", None): "Roll this endpoint's signing secret in the Dashboard's Webhooks",
    ("publishable", "live"): "Nothing to rotate: check it is the key you meant to ship",
    ("publishable", "test"): "Nothing to rotate: check it is the key you meant to ship",
}


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    """`--format github`: GitHub's per-level annotation limits, then one line about the rest."""
    return "".join(line + "\n" for line in annotation_lines(result, rules))


def annotation_lines(result: ScanResult, rules: RuleSet, first: tuple[str, ...] = ()) -> list[str]:
    """`first` (already formatted, e.g. the policy warning of `ci github`), then one annotation per
    unsuppressed finding, worst first, while its level has room; one notice says how many did not
    fit. Each: title, location, one line of action (the full remediation is in the summary)."""
    active = [f for f in result.findings if f.suppressed is None]
    room = {level: limit - sum(1 for x in first if x.startswith(f"::{level} "))
            for level, limit in ANNOTATION_LIMITS.items()}  # fmt: skip
    if _left_out(active, room):
        room["notice"] -= 1  # the line about the rest is a notice too
    lines, shown = list(first), dict.fromkeys(room, 0)
    for f in active:
        level = _level(f)
        if shown[level] < room[level]:
            lines.append(_annotation(f, rules))
            shown[level] += 1
    rest = len(active) - sum(shown.values())
    if rest > 0:
        lines.append(
            f"::notice title=leakscan::{rest} more finding(s) not annotated (GitHub shows at most "
            "10 errors, 10 warnings and 10 notices per step); the step summary and the SARIF "
            "report have all of them."
        )
    return lines


def _level(f: Finding) -> str:
    """The annotation command of a finding: error, warning or notice."""
    return _COMMANDS.get(f.severity, "notice")


def _left_out(active: list[Finding], room: dict[str, int]) -> bool:
    counts = {level: 0 for level in room}
    for f in active:
        counts[_level(f)] += 1
    return any(counts[level] > room[level] for level in room)


def _annotation(f: Finding, rules: RuleSet) -> str:
    loc = f.locations[0]
    command = _level(f)
    title = f"{rules.rule(f.rule_id).title} ({f.severity.label})"
    props = {
        "file": loc.path,
        "line": str(loc.line),
        "col": str(loc.column),
        "endColumn": str(loc.end_column),
        "title": title,
    }
    commit = f" in commit {loc.commit[:12]}" if loc.commit else ""
    message = f"{f.preview}{commit}: {action(f, rules)}"
    fields = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{command} {fields}::{escape_data(message)}"


def action(f: Finding, rules: RuleSet) -> str:
    """One line: what to do about this finding (the step summary has the full remediation)."""
    if rules.sample_note and rules.sample_note in f.notes:
        text = "A public Stripe documentation sample: replace it with your own key from the environment"
    else:
        first = rules.rule(f.rule_id).remediation.split(". ")[0].rstrip(".")
        text = _ACTIONS.get((f.key_type, f.mode), first)
    if not f.present_at_head:
        text += "; it is in the history only, so deleting the line does not help"
    return text + " (full steps in the job summary)."


def failure_annotation(message: str) -> str:
    return f"::error title=leakscan: the scan did not finish::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def failure_summary(message: str, warnings: tuple[str, ...] = ()) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY when the scan did not finish (exit 2): what failed, and
    the fix — the part of leakscan's sentence after its `; ` (every error says what to do there)."""
    what, _, fix = message.partition("; ")
    fix = fix or "read the error above, correct what it names, and run the job again."
    lines = ["## leakscan: the scan did not finish", "", *_warning_lines(warnings),
             f"**What failed:** {_cell(what.rstrip('.'))}.", "",
             f"**Fix:** {_cell(fix[:1].upper() + fix[1:])}", "",
             "No SARIF was uploaded from this run, so code scanning keeps its open alerts.", ""]  # fmt: skip
    return _clip("\n".join(lines))


def _warning_lines(warnings: tuple[str, ...]) -> list[str]:
    return [line for w in warnings for line in (f"> **Warning:** {_cell(w)}", "")]


def summary(
    result: ScanResult, rules: RuleSet, options: RenderOptions, warnings: tuple[str, ...] = ()
) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: verdict, counts, a table, what to do; never above 1 MiB.
    `warnings` (the policy a pull request tried to change) come first."""
    active = [f for f in result.findings if f.suppressed is None]
    verdict = "failing" if failing(result.findings, options.fail_on) else "passing"
    threshold = options.fail_on.label if options.fail_on is not None else "never"
    s = result.summary
    head = [
        "## leakscan: Stripe credentials",
        "",
        *_warning_lines(warnings),
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
