"""Human report: one block per finding, worst first; colour when `commands/scan.py:use_color` says."""

from __future__ import annotations

from leakscan import exposure
from leakscan.accounts import describe, group_by_account, together_line
from leakscan.findings import failing
from leakscan.model import (
    BaselineEntry,
    Finding,
    HistoryStats,
    Location,
    RuleSet,
    ScanResult,
    ScanSummary,
    Severity,
    Skipped,
    Verification,
)
from leakscan.report.options import RenderOptions
from leakscan.units import human_size

_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"
MAX_LOCATIONS = 10  # per finding; the rest are counted
MAX_NAMED = 6  # findings named above one remediation in "What to do"; the rest are counted
SPARSE_KIND = "outside the sparse checkout"  # the skip kind of files a sparse checkout hides
SHORT_HASH = 12  # hex characters of secret_sha256 shown per finding, for `leakscan allow`


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    """A block per finding; suppressed ones are counted in one line unless asked for (--verbose);
    then "What to do": each distinct remediation once, after the findings it applies to."""
    shown = [f for f in result.findings if options.show_suppressed or f.suppressed is None]
    advice = list(dict.fromkeys(f.remediation for f in shown if f.suppressed is None))
    blocks = [_block(f, rules, options, advice) for f in shown]
    accounts = accounts_section(result.findings)
    if accounts:
        blocks.append(accounts)
    if advice:
        blocks.append(_what_to_do(shown, rules, advice))
    hidden = [f.suppressed.kind for f in result.findings if f not in shown and f.suppressed]
    if hidden:
        kinds = ", ".join(f"{hidden.count(k)} {k}" for k in sorted(set(hidden)))
        blocks.append(f"{len(hidden)} suppressed finding(s) not shown ({kinds}); --verbose shows "
                      "them, and JSON and SARIF always list them.\n")  # fmt: skip
    return "".join(blocks)


def _block(f: Finding, rules: RuleSet, options: RenderOptions, advice: list[str]) -> str:
    rule = rules.rule(f.rule_id)
    label = f.severity.label.upper()
    if options.color:
        label = f"{_COLORS[f.severity]}{label}{_RESET}"
    shown = f.secret if options.show_secrets else f.preview
    lines = [f"{label}  {rule.title}  {shown}  [{f.rule_id}]"]
    for loc in f.locations[:MAX_LOCATIONS]:  # the introducing commit first (findings.py)
        lines.append(f"  at {_where(loc)}")
    if len(f.locations) > MAX_LOCATIONS:
        lines.append(f"  … and {len(f.locations) - MAX_LOCATIONS} more place(s)")
    kind = kind_phrase(f.key_type, f.mode)
    where_now = "present at HEAD" if f.present_at_head else "in history only"
    if f.status is not None:
        where_now += " · new" if f.status == "new" else " · still open (reported by an earlier run)"
    lines.append(f"  {kind} · confidence {f.confidence.value} · {where_now} · "
                 f"hash {short_hash(f.secret_sha256)}")  # fmt: skip
    if f.exposure is not None:
        lines.append(f"  {exposure.summary(f.exposure)}")
    if f.account is not None:
        lines.append(f"  account {f.account.preview}")
    for reason in f.context:
        lines.append(f"  context: {reason}")
    for note in f.notes:
        lines.append(f"  note: {note}")
    if f.verification is not None:
        lines.append(f"  {verification_line(f.verification)}")
    if f.suppressed is not None:
        lines.append(f"  suppressed ({f.suppressed.kind}): {f.suppressed.reason}")
    else:
        lines.append(f"  what to do: [{advice.index(f.remediation) + 1}] below")
    return "\n".join(lines) + "\n\n"


def kind_phrase(key_type: str, mode: str | None) -> str:
    """`secret, live mode`; the key type alone when the key does not encode a mode."""
    return f"{key_type}, {mode} mode" if mode else key_type


def short_hash(sha256: str) -> str:
    """The start of a finding's secret_sha256 that `leakscan allow` takes (git's 12 characters)."""
    return sha256[:SHORT_HASH]


def accounts_section(findings: tuple[Finding, ...]) -> str:
    """`Stripe accounts`: one line per account whose keys were found, worst first, and each file
    that holds a publishable key beside a secret one (empty when no key names its account)."""
    groups = group_by_account(findings)
    if not groups:
        return ""
    lines = ["Stripe accounts (from the keys' account segment: evidence, not proof)"]
    for g in groups:
        lines.append(f"  {g.severity.label.upper()}  {describe(g)}")
        lines += [f"    {together_line(safe(path))}" for path in g.together]
    return "\n".join(lines) + "\n\n"


def _where(loc: Location) -> str:
    where = f"{safe(loc.path)}:{loc.line}:{loc.column}"
    if loc.repository is not None:
        where = f"{safe(loc.repository)}: {where}"
    if loc.commit:
        where += f"  commit {loc.commit[:12]}"
        if loc.author_date:
            where += f" ({loc.author_date})"
    if loc.encoding != "plain":
        where += f"  [{loc.encoding}]"
    return where


def _what_to_do(shown: list[Finding], rules: RuleSet, advice: list[str]) -> str:
    """Each remediation once, numbered as the findings' pointers say, headed by the findings it is
    for (rule title and preview; never the raw key, even with --show-secrets)."""
    import textwrap  # text reports only: a JSON or SARIF run does without it

    parts = ["What to do\n"]
    for number, text in enumerate(advice, 1):
        applies = [f for f in shown if f.suppressed is None and f.remediation == text]
        named = [f"{rules.rule(f.rule_id).title} {f.preview}" for f in applies[:MAX_NAMED]]
        if len(applies) > MAX_NAMED:
            named.append(f"{len(applies) - MAX_NAMED} more")
        head = textwrap.fill(f"[{number}] for {', '.join(named)}:", width=100,
                             subsequent_indent="    ")  # fmt: skip
        body = textwrap.fill(text, width=100, initial_indent="    ", subsequent_indent="    ")
        parts.append(f"\n{head}\n{body}\n")
    return "".join(parts) + "\n"


def summary_line(result: ScanResult, fail_on: Severity | None) -> str:
    """The one line on stderr after every text scan."""
    s = result.summary
    active = [f for f in result.findings if f.suppressed is None]
    counts: dict[Severity, int] = {}
    for f in active:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    by_sev = ", ".join(f"{n} {sev.label}" for sev, n in sorted(counts.items(), reverse=True))
    suppressed = len(result.findings) - len(active)
    what = f"{s.blobs} blobs" if s.blobs else f"{s.files} files"
    parts = [f"{len(active)} finding(s)" + (f" ({by_sev})" if by_sev else "")]
    parts.append(f"{what}, {human_size(s.bytes)} scanned")
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    verified = [f.verification.status for f in result.findings if f.verification is not None]
    if verified:
        tally = ", ".join(f"{verified.count(s)} {s}" for s in ("live", "revoked", "unknown"))
        parts.append(f"verified: {tally}")
    if s.skipped:
        parts.append(skipped_phrase(s.skipped))
    if s.history is not None and s.history.unreachable:
        parts.append(unreachable_phrase(s.history))
    verdict = "failing" if failing(result.findings, fail_on) else "passing"
    threshold = f"--fail-on {fail_on.label}" if fail_on is not None else "--fail-on never"
    return f"leakscan: {'; '.join(parts)} — {verdict} ({threshold})"


# What a skip's reason starts with -> the kind the summary line counts it under.
SKIP_KINDS = (
    ("larger than", "too large"),
    ("unreadable", "unreadable"),
    ("not a regular file", "not a regular file"),
    ("symlink", "symlink"),
    ("submodule not checked out", "submodule not checked out"),
    ("not checked out (outside the sparse checkout", SPARSE_KIND),
    ("submodule not scanned", "submodule not scanned"),
    ("a submodule or nested repository", "nested repository"),
)


def skip_kind(reason: str) -> str:
    """The kind of a skip as the summary line names it; an unknown reason is its own kind."""
    for start, kind in SKIP_KINDS:
        if reason.startswith(start):
            return kind
    return "incomplete" if "timed out" in reason else reason.split(":", 1)[0].split(" (", 1)[0]


def skipped_phrase(skipped: tuple[Skipped, ...]) -> str:
    """`3 skipped (2 too large, 1 symlink)`: every kind of skip named and counted, most first."""
    counts: dict[str, int] = {}
    for k in skipped:
        kind = "archive part" if k.container else skip_kind(k.reason)
        counts[kind] = counts.get(kind, 0) + 1
    kinds = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return f"{len(skipped)} skipped ({', '.join(f'{n} {safe(kind)}' for kind, n in kinds)})"


def verbose_lines(summary: ScanSummary) -> list[str]:
    lines = [f"leakscan: scanned {summary.target} ({summary.mode}) in {summary.seconds:.2f}s"]
    if summary.history is not None:
        lines += history_lines(summary, summary.history)
    lines += [f"leakscan: note: {n}" for n in summary.notes]
    lines += [f"leakscan: skipped {safe(k.path)}: {k.reason}" for k in summary.skipped]
    return lines


def history_lines(summary: ScanSummary, h: HistoryStats) -> list[str]:
    """What a history scan read, what it left out and why, and where its time went (what it did not
    read, binary and large blobs, is in the notes that follow)."""
    listed = f"{h.listed} blobs ({human_size(h.listed_bytes)})"
    read = f"{summary.blobs + h.unreachable} blobs read and matched once each"
    lines = [
        f"leakscan: history: {h.refs} ref(s), {h.commits} commit(s); {listed} in the object database",
        f"leakscan: history: {read}, {h.full_scans} of them through the rules (they held a keyword)",
    ]
    if h.unreachable:
        scanned = f"{summary.blobs} blobs ({human_size(summary.bytes)}) scanned"
        dropped = f"{h.unreachable} unreachable blobs ({human_size(h.unreachable_bytes)})"
        lines.append(f"leakscan: history: {scanned}; {dropped} read and not reported "
                     "(--unreachable reports them)")  # fmt: skip
    times = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in h.timings)
    lines.append(f"leakscan: history: time: {times}")
    return lines


def unreachable_phrase(h: HistoryStats) -> str:
    """Why the progress bar counted more blobs than the summary: every object was read while the walk
    found which ones a ref reaches."""
    return f"{h.unreachable} unreachable blobs read and not reported (--unreachable reports them)"


def safe(text: str) -> str:
    """Control characters (a newline in a file name) shown escaped, so one path is one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def verification_line(v: Verification) -> str:
    answer = f"HTTP {v.http_status}" if v.http_status is not None else "no answer"
    when = f", {v.checked_at}" if v.checked_at else ""
    reason = f": {v.reason}" if v.reason else ""
    return f"verified: {v.status} ({answer}{when}){reason}"


def verify_warning(count: int, base_url: str) -> str:
    """Said on stderr before any verification request is sent."""
    return (
        f"leakscan: warning: --verify sends {count} key(s) to {base_url} (one read-only GET /v1/account "
        "each); these requests show up in each key owner's Stripe request logs."
    )


def stale_lines(entries: tuple[BaselineEntry, ...]) -> list[str]:
    if not entries:
        return ["leakscan: baseline: every entry is still found."]
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    lines = [f"leakscan: baseline: {count} no longer found (remove them with `leakscan baseline`):"]
    for e in entries:
        shown = e.preview or "…"
        lines.append(f"leakscan:   {e.rule_id}  {shown}  sha256 {e.secret_sha256[:16]}…")
    return lines
