"""The CI commands: `ci github` (scan what a GitHub event changed; SARIF, annotations, step summary,
outputs) and `hook pre-push` (scan the commits being pushed)."""

from __future__ import annotations

import os
from pathlib import Path

from leakscan import __version__
from leakscan.atomic import write_atomically
from leakscan.cli.console import echo
from leakscan.commands.event import Target, choose, load_event
from leakscan.commands.scan import Scanned, collect_git, finish, scan_tree
from leakscan.errors import UsageError
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
    for line in github_report.annotation_lines(result, settings.rules):
        echo(line)
    if env.get("GITHUB_STEP_SUMMARY"):
        summary = github_report.summary(result, settings.rules, options)
        append_text(env["GITHUB_STEP_SUMMARY"], summary)
    active = sum(1 for f in result.findings if f.suppressed is None)
    if env.get("GITHUB_OUTPUT"):
        outputs = {"findings": str(active), "sarif-file": sarif_file}
        append_text(env["GITHUB_OUTPUT"], github_output(outputs))
    return code


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
    scanned = collect_git(Path("."), request, spec, use_baseline=not request.no_baseline)
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
