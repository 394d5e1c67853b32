"""The `baseline` command: write the findings of a scan (or of a gitleaks / detect-secrets report) as
a baseline file, so that later scans fail only on new keys."""

from __future__ import annotations

import os
from pathlib import Path

from leakscan.atomic import write_atomically
from leakscan.baseline import file as baseline_file
from leakscan.baseline import importers
from leakscan.cli.console import echo
from leakscan.commands.scan import scan_sources
from leakscan.errors import BaselineError, SourceError, UsageError
from leakscan.model import BaselineEntry
from leakscan.report import text as text_report
from leakscan.request import ScanRequest
from leakscan.settings import load_config_for, make_settings
from leakscan.settings.config import in_directory
from leakscan.sources import worktree


def run_baseline(
    request: ScanRequest, from_gitleaks: str | None, from_detect_secrets: str | None
) -> None:
    if from_gitleaks and from_detect_secrets:
        raise UsageError("use --from-gitleaks or --from-detect-secrets, not both.")
    if from_gitleaks:
        entries, root = _gitleaks_entries(request, from_gitleaks)
    else:
        entries, root = _scanned_entries(request, from_detect_secrets)
    output = request.output or in_directory(root, baseline_file.FILE_NAME)
    entries = baseline_file.with_verdicts(entries, _earlier(output))
    write_atomically(output, baseline_file.render(entries))
    if not request.quiet:
        noun = "entry" if len(entries) == 1 else "entries"
        echo(f"leakscan: wrote {len(entries)} baseline {noun} to {output}.", err=True)


def _gitleaks_entries(request: ScanRequest, source: str) -> tuple[tuple[BaselineEntry, ...], str]:
    """The Stripe keys of a gitleaks report (no scan); the root only places the output file."""
    plan = worktree.plan(list(request.paths), os.getcwd())
    config = load_config_for(request, plan.root)
    path = Path(source)
    doc = importers.read_json(path, "gitleaks report")
    imported = importers.from_gitleaks(doc, make_settings(config, request), path)
    _say_imported(imported, "gitleaks", request)
    return imported.entries, plan.root


def _scanned_entries(
    request: ScanRequest, detect_secrets: str | None
) -> tuple[tuple[BaselineEntry, ...], str]:
    """Every finding of a scan, or only those a detect-secrets baseline knows (by SHA-1)."""
    scanned = scan_sources(request, use_baseline=False)
    summary = scanned.result.summary
    if request.verbose:
        for line in text_report.verbose_lines(summary):
            echo(line, err=True)
    unreadable = any(k.reason.startswith("unreadable") for k in summary.skipped)
    nothing_read = unreadable and summary.files == 0 and summary.blobs == 0
    if nothing_read or any(k.incomplete for k in summary.skipped):
        raise SourceError("the scan did not finish, so no baseline was written; see --verbose.")
    if not detect_secrets:
        return baseline_file.entries_from_findings(scanned.result.findings), scanned.root
    path = Path(detect_secrets)
    doc = importers.read_json(path, "detect-secrets baseline")
    imported = importers.from_detect_secrets(doc, scanned.result.findings, path)
    _say_imported(imported, "detect-secrets", request)
    return imported.entries, scanned.root


def _say_imported(imported: importers.Imported, tool: str, request: ScanRequest) -> None:
    if request.quiet:
        return
    echo(
        f"leakscan: imported {len(imported.entries)} Stripe key(s) from {imported.total} "
        f"{tool} result(s).",
        err=True,
    )
    for reason, count in imported.unmapped:
        echo(f"leakscan: {count} {tool} result(s) not imported: {reason}.", err=True)


def _earlier(path: str) -> tuple[BaselineEntry, ...]:
    """The baseline being replaced, for its audit verdicts; nothing if it is absent or unreadable."""
    if not os.path.isfile(path):
        return ()
    try:
        return baseline_file.load(path)
    except BaselineError:
        return ()
