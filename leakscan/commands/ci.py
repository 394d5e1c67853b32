"""The CI commands: `ci github` (scan what a GitHub event changed; SARIF, annotations, step summary,
outputs) and `hook pre-push` (scan the commits being pushed)."""

from __future__ import annotations

import os
from pathlib import Path

from leakscan import __version__
from leakscan.atomic import write_atomically
from leakscan.cli.console import echo, redact_keys
from leakscan.commands.event import Target, choose, load_event
from leakscan.commands.scan import Scanned, collect_git, finish, scan_tree, unfinished
from leakscan.errors import LeakscanError, UsageError
from leakscan.model import ScanResult, ScanSummary
from leakscan.report import github as github_report
from leakscan.report import sarif as sarif_report
from leakscan.report.options import RenderOptions
from leakscan.request import ScanRequest
from leakscan.settings import load_config_for, make_settings, resolve_fail_on


def run_ci_github(
    request: ScanRequest,
    *,
    path: str,
    mode: str,
    base: str | None,
    head: str | None,
    sarif_file: str,
) -> int:
    """Scan what the event changed; the step summary and $GITHUB_OUTPUT are written whatever the
    outcome: findings (1), none (0), or a scan that could not finish (2: what failed, the fix)."""
    try:
        return _scan_and_report(request, path, mode, base, head, sarif_file)
    except LeakscanError as exc:
        _report_failure(redact_keys(str(exc)), sarif_file=None)
        raise


def _scan_and_report(
    request: ScanRequest, path: str, mode: str, base: str | None, head: str | None, sarif_file: str
) -> int:
    env = os.environ
    event = load_event(env.get("GITHUB_EVENT_PATH"))
    target = choose(
        Path(path), env.get("GITHUB_EVENT_NAME", ""), event, mode=mode, base=base, head=head
    )
    echo(f"leakscan: scanning {target.reason}", err=True)
    scanned = scan_target(path, target, request)
    result, settings, config = scanned.result, scanned.settings, scanned.config
    options = RenderOptions(False, False, resolve_fail_on(request, config), __version__)
    write_atomically(sarif_file, sarif_report.render(result, settings.rules, options))
    if sarif_report.truncated(result):
        echo(f"leakscan: warning: {sarif_report.cap_message(len(result.findings))}", err=True)
    code = finish(result, settings, config, request)
    warnings = (scanned.policy_note,) if scanned.policy_note else ()
    problem = unfinished(result, request)
    if problem is not None:
        _report_failure(problem, sarif_file=sarif_file, warnings=warnings)
        return code
    first = tuple(policy_annotation(w) for w in warnings)
    for line in github_report.annotation_lines(result, settings.rules, first):
        echo(line)
    if env.get("GITHUB_STEP_SUMMARY"):
        summary = github_report.summary(result, settings.rules, options, warnings)
        append_text(env["GITHUB_STEP_SUMMARY"], summary)
    active = sum(1 for f in result.findings if f.suppressed is None)
    _write_outputs({"findings": str(active), "sarif-file": sarif_file})
    return code


def _report_failure(
    message: str, *, sarif_file: str | None, warnings: tuple[str, ...] = ()
) -> None:
    """Exit 2: an annotation, the step summary (what failed, the fix) and the outputs, so the job
    page says why. Writing them must not hide the first error: a second one is only logged."""
    echo(github_report.failure_annotation(message))
    try:
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            append_text(os.environ["GITHUB_STEP_SUMMARY"],
                        github_report.failure_summary(message, warnings))  # fmt: skip
        _write_outputs({"findings": "", "sarif-file": sarif_file or "", "error": message})
    except UsageError as exc:
        echo(f"leakscan: error: {exc}", err=True)


def policy_annotation(note: str) -> str:
    return f"::warning title=leakscan: scan policy change::{github_report.escape_data(note)}"


def _write_outputs(values: dict[str, str]) -> None:
    if os.environ.get("GITHUB_OUTPUT"):
        append_text(os.environ["GITHUB_OUTPUT"], github_output(values))


def scan_target(path: str, target: Target, request: ScanRequest) -> Scanned:
    """Scan what a CI event asked for."""
    use_baseline = not request.no_baseline
    if target.mode == "tree":
        return scan_tree(request._replace(paths=(path,)), use_baseline=use_baseline)
    if target.mode == "none":
        config = load_config_for(request, path)
        empty = ScanResult(ScanSummary(target=path, mode="range", files=0, blobs=0, bytes=0), ())
        return Scanned(empty, make_settings(config, request), config, path, ())
    spec = target.range if target.mode == "range" else None
    return collect_git(Path(path), request, spec, use_baseline=use_baseline)


def run_pre_push(request: ScanRequest) -> int:
    """$PRE_COMMIT_FROM_REF..$PRE_COMMIT_TO_REF, or the commits of the local branch no
    remote-tracking branch has (pre-commit sets neither when a push starts at a root commit)."""
    env = os.environ
    base, head = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    branch = env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    spec = f"{base}..{head}" if base and head else f"..{branch}"
    trusted = request._replace(trust_config_changes=True)  # the developer's own commits
    scanned = collect_git(Path("."), trusted, spec, use_baseline=not request.no_baseline)
    return finish(scanned.result, scanned.settings, scanned.config, request)


def github_output(values: dict[str, str]) -> str:
    """Lines for $GITHUB_OUTPUT; a value with a newline uses the delimiter form."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            lines += [f"{name}<<LEAKSCAN_EOF", value, "LEAKSCAN_EOF"]
        else:
            lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


def append_text(path: str, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc}).") from None
