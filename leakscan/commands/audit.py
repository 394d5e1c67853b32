"""`leakscan baseline --audit`: walk the baseline's entries in a terminal and record a verdict for
each (true positive, false positive, accepted risk) with an optional reason, like
`detect-secrets audit`. The key is never shown unless the auditor asks (`r`); the file is saved
after every verdict, so quitting loses nothing."""

from __future__ import annotations

import os
import sys

from leakscan.atomic import write_atomically
from leakscan.baseline import file as baseline_file
from leakscan.cli.console import ask, echo
from leakscan.commands.scan import scan_sources
from leakscan.errors import UsageError
from leakscan.model import BaselineEntry, Finding
from leakscan.report import text as text_report
from leakscan.request import ScanRequest
from leakscan.settings import load_config_for
from leakscan.settings.config import in_directory
from leakscan.sources import worktree

CHOICES = {"t": "true positive", "f": "false positive", "a": "accepted risk"}
MENU = "[t] true positive  [f] false positive  [a] accepted risk  [r] reveal the key  [s] skip  [q] quit"


def run_audit(request: ScanRequest) -> int:
    if not sys.stdin.isatty():
        raise UsageError("baseline --audit asks about each entry; run it in a terminal.")
    path = _baseline_path(request)
    entries = list(baseline_file.load(path))
    if not entries:
        echo(f"leakscan: {path} has no entries to audit.", err=True)
        return 0
    found = {(f.rule_id, f.secret_sha256): f
             for f in scan_sources(request, use_baseline=False).result.findings}  # fmt: skip
    for i, entry in enumerate(entries):
        finding = found.get((entry.rule_id, entry.secret_sha256))
        echo(_describe(i + 1, len(entries), entry, finding))
        verdict = _ask_verdict(finding)
        if verdict is None:
            break
        if verdict:
            reason = " ".join((ask("reason (optional): ") or "").split())
            entries[i] = entry._replace(verdict=verdict, reason=reason)
            write_atomically(path, baseline_file.render(entries))
    audited = sum(1 for e in entries if e.verdict)
    echo(f"leakscan: {audited} of {len(entries)} baseline entries have a verdict ({path}).")
    return 0


def _baseline_path(request: ScanRequest) -> str:
    if request.baseline_path:
        return request.baseline_path
    root = worktree.plan(list(request.paths), os.getcwd()).root
    config = load_config_for(request, root)
    return config.baseline or in_directory(root, baseline_file.FILE_NAME)


def _describe(n: int, total: int, e: BaselineEntry, f: Finding | None) -> str:
    kind = text_report.kind_phrase(e.key_type, e.mode) if e.key_type else "custom"
    lines = [f"[{n}/{total}] {e.rule_id}  {e.preview or '…'}  ({kind})"]
    if f is None:
        lines.append("  not found by this scan (rotated and removed, or outside the target)")
    else:
        lines += [f"  at {text_report.safe(loc.path)}:{loc.line}:{loc.column}"
                  for loc in f.locations[:3]]  # fmt: skip
    verdict = f"{e.verdict}" + (f": {e.reason}" if e.reason else "") if e.verdict else "none yet"
    lines.append(f"  verdict: {verdict}")
    return "\n".join(lines)


def _ask_verdict(f: Finding | None) -> str | None:
    """A verdict, "" to skip, None to quit. `r` shows the key (the only way it is ever shown)."""
    while True:
        answer = (ask(MENU + "\n> ") or "q").strip().lower()[:1]
        if answer in CHOICES:
            return CHOICES[answer]
        if answer == "s":
            return ""
        if answer == "q":
            return None
        if answer == "r":
            shown = f.secret if f is not None and f.secret else None
            echo(f"  key: {shown}" if shown else "  the key is not in this scan's target; the "
                 "baseline holds only its hash.")  # fmt: skip
