"""From parsed options to a finished scan and an exit code, without click.

The click CLI (`cli.py`) and the click-free `scan` of `main.py` both call these, so a scan does the
same thing whichever parsed its command line. `opts` is the dict click builds for the `scan` command
(option name -> value); `main.py`'s parser builds the same dict.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable

from leakscan import __version__
from leakscan.baseline import file as baseline_file
from leakscan.atomic import write_atomically
from leakscan.settings.config import (
    FILE_NAME,
    Config,
    find_config,
    in_directory,
    load_config,
    parse_fail_on,
)
from leakscan.cli.console import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, echo
from leakscan.errors import UsageError
from leakscan.fingerprint import redact
from leakscan.scan.interrupt import interrupt_guard, until_interrupted
from leakscan.match.engine import DEFAULT_TIMEOUT, compile_matcher, find_matches
from leakscan.model import BaselineEntry, RuleSet, ScanResult, ScanSummary, Severity
from typing import TYPE_CHECKING, NamedTuple
from leakscan.report import text as text_report
from leakscan.report.options import RenderOptions
from leakscan.report.progress import progress_line
from leakscan.settings.rules import load_builtin, load_rule_file, merge
from leakscan.scan.content import Settings, failing, scan_items
from leakscan.sources.files import display_path

if TYPE_CHECKING:
    from pathlib import Path

    from leakscan.commands import event
    from leakscan.model import StrPath
DEFAULT_FAIL_ON = "medium"
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")
Renderer = Callable[[ScanResult, RuleSet, RenderOptions], str]


def _render_json(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import json as json_report

    return json_report.render(result, rules, options)


def _render_sarif(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import sarif as sarif_report

    return sarif_report.render(result, rules, options)


def _sarif_truncated(result: ScanResult) -> bool:
    from leakscan.report import sarif as sarif_report

    return sarif_report.truncated(result)


def _render_github(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import github as github_report

    return github_report.render(result, rules, options)


# Only the text renderer is imported up front: a pre-commit scan pays for no other.
RENDERERS: dict[str, Renderer] = {
    "text": text_report.render,
    "json": _render_json,
    "sarif": _render_sarif,
    "github": _render_github,
}
_SIZE = re.compile(r"(?i)\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*")


_GIT_SOURCES = ("history", "range_spec", "since", "staged")


class Scanned(NamedTuple):
    """A finished scan and what it was run with."""

    result: ScanResult
    settings: Settings
    config: Config
    root: str
    baseline: tuple[BaselineEntry, ...]


def scan_sources(paths: tuple[str, ...], opts: dict[str, object], *, use_baseline: bool) -> Scanned:
    """Source selection, config, rules, baseline and the scan itself: one place for every command."""
    chosen = [name for name in _GIT_SOURCES if opts[name]]
    if len(chosen) > 1:
        raise UsageError(
            "--history, --range, --since and --staged are different scans; choose one."
        )
    if opts["unreachable"] and not opts["history"]:
        raise UsageError("--unreachable only applies to --history.")
    if opts["staged"]:
        return scan_staged(list(paths), opts, use_baseline=use_baseline)
    if chosen:
        return scan_git(paths, opts, use_baseline=use_baseline)
    return scan_tree(paths, opts, use_baseline=use_baseline)


def scan_tree(paths: tuple[str, ...], opts: dict[str, object], *, use_baseline: bool) -> Scanned:
    from leakscan.scan import tree as parallel  # tree scans only: a staged scan does without
    from leakscan.sources import worktree

    plan = worktree.plan(list(paths), os.getcwd())
    config = load_config_for(opts, plan.root)
    known = load_baseline(opts, config, plan.root) if use_baseline else ()
    settings = make_settings(config, opts, baseline_file.keys(known))
    max_size = parse_size(str(opts["max_file_size"]))
    with interrupt_guard() as interrupted:
        listed = list(until_interrupted(
            worktree.entries(plan, include_ignored=bool(opts["include_ignored"]),
                             excludes=config.exclude_paths),
            interrupted,
        ))  # fmt: skip
        read = parallel.bound(worktree.read_entry, max_size=max_size)
        jobs = opts.get("jobs")
        workers = int(str(jobs)) if jobs else parallel.worker_count(len(listed))
        result = parallel.scan_parallel(
            settings, listed, read, target=display_path(plan.root), mode=plan.mode,
            workers=workers,
        )  # fmt: skip
    return Scanned(result, settings, config, plan.root, known)


def load_baseline(
    opts: dict[str, object], config: Config, root: StrPath
) -> tuple[BaselineEntry, ...]:
    """--baseline > `baseline:` in the config > .leakscan-baseline.json at the root, if present."""
    if opts["baseline_path"]:
        return baseline_file.load(str(opts["baseline_path"]))
    if config.baseline is not None:
        return baseline_file.load(config.baseline)
    default = in_directory(root, baseline_file.FILE_NAME)
    return baseline_file.load(default) if os.path.isfile(default) else ()


def verify_findings(result: ScanResult, settings: Settings, opts: dict[str, object]) -> ScanResult:
    from leakscan.verify import policy as liveness  # network code: only with --verify
    from leakscan.verify import client as verify

    options = verify.VerifyOptions(
        base_url=verify.base_url(dict(os.environ)),
        timeout=float(str(opts["verify_timeout"])),
        concurrency=int(str(opts["verify_concurrency"])),
        max_requests=int(str(opts["verify_max_requests"])),
        stripe_context=verify.stripe_context(str(opts["stripe_context"] or "") or None),
    )
    secrets = liveness.keys_to_check(result.findings, settings.rules)
    if secrets:
        echo(text_report.verify_warning(len(secrets), options.base_url), err=True)
    results = verify.verify_keys(secrets, options)
    return result._replace(findings=liveness.apply(result.findings, results))


def scan_git(paths: tuple[str, ...], opts: dict[str, object], *, use_baseline: bool) -> Scanned:
    if len(paths) > 1:
        raise UsageError(f"a git history scan takes one repository, not {len(paths)} paths.")
    from pathlib import Path  # the git scans only: a tree scan imports no pathlib

    repo = Path(paths[0]) if paths else Path(".")
    spec = None if opts["history"] else str(opts["range_spec"] or f"{opts['since']}..HEAD")
    return collect_git(repo, opts, spec, bool(opts["unreachable"]), use_baseline=use_baseline)


def collect_git(
    repo: Path,
    opts: dict[str, object],
    spec: str | None,
    unreachable: bool = False,
    *,
    use_baseline: bool = True,
) -> Scanned:
    """The whole history (spec None) or the commits of a BASE..HEAD range."""
    from leakscan.scan import (
        history as gitscan,
    )  # not needed by the other scans: keep their start-up light
    from leakscan.workers import available_cpus

    config = load_config_for(opts, repo)
    entries = load_baseline(opts, config, repo) if use_baseline else ()
    settings = make_settings(config, opts, baseline_file.keys(entries))
    options = gitscan.Options(
        jobs=int(opts.get("jobs") or available_cpus()),  # type: ignore[call-overload]
        max_size=parse_size(str(opts["max_file_size"])),
        excludes=config.exclude_paths,
        start_progress=progress_starter(opts),
    )
    try:
        with interrupt_guard():
            if spec is None:
                result = gitscan.scan_history(settings, repo, unreachable, options)
            else:
                result = gitscan.scan_range(settings, repo, spec, options)
    finally:
        clear_progress(opts)
    if (
        spec is not None
        and config.origin
        and os.path.realpath(os.path.dirname(config.origin) or ".") == os.path.realpath(repo)
    ):
        from leakscan.sources.git import changed_in_range

        if changed_in_range(repo, spec, FILE_NAME):
            echo(f"leakscan: warning: the scanned commits change {FILE_NAME}, and that new config "
                       "was used; pass --config with a trusted file to scan untrusted changes.",
                       err=True)  # fmt: skip
    return Scanned(result, settings, config, os.fspath(repo), entries)


def scan_staged(args: list[str], opts: dict[str, object], *, use_baseline: bool) -> Scanned:
    from leakscan.sources import staged

    repo, paths = staged.split_repo(args)
    index = staged.read_index(repo, paths, os.getcwd())
    config = load_config_for(opts, index.root)
    entries = load_baseline(opts, config, index.root) if use_baseline else ()
    settings = make_settings(config, opts, baseline_file.keys(entries))
    items = staged.staged_files(index, parse_size(str(opts["max_file_size"])), config.exclude_paths)
    with interrupt_guard() as interrupted:
        items = until_interrupted(items, interrupted)
        result = scan_items(settings, items, target=display_path(index.root), mode="staged",
                            notes=index.notes)  # fmt: skip
    return Scanned(result, settings, config, os.fspath(index.root), entries)


PROGRESS_MIN_BYTES = 32 << 20  # smaller scans finish before a bar would be readable
PROGRESS_EVERY = 0.2  # seconds between redraws


def progress_starter(
    opts: dict[str, object],
) -> Callable[[int, int], Callable[[int, int], None] | None] | None:
    if opts["no_progress"] or opts["quiet"] or not sys.stderr.isatty():
        return None

    def start(total_blobs: int, total_bytes: int) -> Callable[[int, int], None] | None:
        if total_bytes < PROGRESS_MIN_BYTES:
            return None
        started = time.monotonic()
        last = [0.0]

        def update(blobs: int, nbytes: int) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY and nbytes < total_bytes:
                return
            last[0] = now
            line = progress_line(blobs, total_blobs, nbytes, total_bytes, now - started)
            echo(f"\r{line}\033[K", err=True, nl=False)

        update(0, 0)
        return update

    return start


def clear_progress(opts: dict[str, object]) -> None:
    if progress_starter(opts) is not None:
        echo("\r\033[K", err=True, nl=False)


def finish(result: ScanResult, settings: Settings, config: Config, opts: dict[str, object]) -> int:
    """Render, write, summarise; return the exit code."""
    fail_on = resolve_fail_on(opts, config)
    fmt = str(opts["fmt"])
    output = opts["output"]
    color = (
        fmt == "text"
        and not opts["no_color"]
        and "NO_COLOR" not in os.environ
        and output is None
        and sys.stdout.isatty()
    )
    options = RenderOptions(
        bool(opts["show_secrets"]),
        color,
        fail_on,
        __version__,
        show_suppressed=bool(opts["verbose"]),
    )
    rendered = RENDERERS[fmt](result, settings.rules, options)
    if fmt == "sarif" and _sarif_truncated(result):
        from leakscan.report import sarif as sarif_report

        echo(f"leakscan: warning: {sarif_report.cap_message(len(result.findings))}", err=True)
    if output:
        write_atomically(str(output), rendered)
    else:
        echo(rendered, nl=False)
    s = result.summary
    if config.origin and not opts["quiet"]:
        echo(config_line(config), err=True)
    if config.exclude_paths and s.files == 0 and s.blobs == 0:
        echo("leakscan: warning: the config's exclude-paths left nothing to scan.", err=True)
    if opts["verbose"]:
        for line in text_report.verbose_lines(s):
            echo(line, err=True)
    unreadable = [k for k in s.skipped if k.reason.startswith("unreadable")]
    if not opts["quiet"]:
        if unreadable and not opts["verbose"]:
            echo(f"leakscan: warning: {len(unreadable)} file(s) could not be read "
                       "(run with --verbose to list them).", err=True)  # fmt: skip
        echo(text_report.summary_line(result, fail_on), err=True)
    incomplete = [k for k in s.skipped if k.incomplete]
    if incomplete:
        first = incomplete[0]
        echo(f"leakscan: error: the scan did not finish: {text_report.safe(first.path)}: "
                   f"{first.reason}.", err=True)  # fmt: skip
        return EXIT_ERROR
    if unreadable and s.files == 0 and s.blobs == 0:
        echo("leakscan: error: nothing could be read; check the permissions of the target.",
                   err=True)  # fmt: skip
        return EXIT_ERROR
    return EXIT_FINDINGS if failing(result.findings, fail_on) else EXIT_CLEAN


def config_line(config: Config) -> str:
    """Which config was used and what it weakens: a PR that silences the scan shows in the log."""
    parts = [f"fail-on {config.fail_on}" if config.fail_on else "fail-on not set"]
    if config.exclude_paths:
        parts.append("excludes " + ", ".join(text_report.safe(p) for p in config.exclude_paths))
    if config.allow_secrets:
        parts.append(f"allows {len(config.allow_secrets)} secret hash(es)")
    if config.rule_files:
        parts.append(f"{len(config.rule_files)} extra rule file(s)")
    return f"leakscan: config {text_report.safe(config.origin or '')}: {'; '.join(parts)}"


def redact_keys(text: str) -> str:
    """Defence in depth for messages built from untrusted input (a rule or config file quoting a key)."""
    builtin = load_builtin()
    found = find_matches(compile_matcher(builtin.rules), text.encode("utf-8", "replace"))
    return redact(text, {m.secret for m in found.matches})


def load_config_for(opts: dict[str, object], root: StrPath) -> Config:
    flag = str(opts["config_path"]) if opts["config_path"] else None
    path = find_config(flag, dict(os.environ), root)
    return load_config(path)


def make_settings(
    config: Config, opts: dict[str, object], baseline: frozenset[tuple[str, str]] = frozenset()
) -> Settings:
    extra = tuple(str(p) for p in opts.get("rule_files") or ())  # type: ignore[attr-defined]
    rules = load_rules(config.rule_files + extra)
    timeout = float(opts.get("rule_timeout") or DEFAULT_TIMEOUT)  # type: ignore[arg-type]
    return Settings(rules, compile_matcher(rules.rules, timeout), config.allow_secrets, baseline)


def load_rules(files: tuple[StrPath, ...]) -> RuleSet:
    return merge([load_builtin(), *(load_rule_file(p) for p in files)])


def resolve_fail_on(opts: dict[str, object], config: Config) -> Severity | None:
    chosen = opts["fail_on"] or config.fail_on or DEFAULT_FAIL_ON
    return parse_fail_on(str(chosen), "--fail-on")


def parse_size(text: str) -> int:
    m = _SIZE.fullmatch(text)
    if not m:
        raise UsageError(f"--max-file-size {text!r} is not a size; use bytes or e.g. 50MiB.")
    unit = (m.group(2) or "b").lower()[0]
    return int(m.group(1)) * {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


def scan_target(path: str, target: event.Target, opts: dict[str, object]) -> Scanned:
    """Scan what a CI event or a git hook asked for."""
    use_baseline = not opts["no_baseline"]
    if target.mode == "tree":
        return scan_tree((path,), opts, use_baseline=use_baseline)
    if target.mode == "none":
        config = load_config_for(opts, path)
        empty = ScanResult(ScanSummary(target=path, mode="range", files=0, blobs=0, bytes=0), ())
        return Scanned(empty, make_settings(config, opts), config, path, ())
    spec = target.range if target.mode == "range" else None
    from pathlib import Path

    return collect_git(Path(path), opts, spec, use_baseline=use_baseline)


def run_scan(paths: tuple[str, ...], opts: dict[str, object]) -> int:
    """The `scan` command: scan, compare with the baseline, verify, report; the exit code."""
    scanned = scan_sources(paths, opts, use_baseline=not opts["no_baseline"])
    result = scanned.result
    if opts["report_stale"]:
        stale = baseline_file.stale(scanned.baseline, result.findings)
        result = result._replace(summary=result.summary._replace(stale_baseline=stale))
    if opts["verify"]:
        result = verify_findings(result, scanned.settings, opts)
    code = finish(result, scanned.settings, scanned.config, opts)
    if result.summary.stale_baseline is not None and not opts["quiet"]:
        for line in text_report.stale_lines(result.summary.stale_baseline):
            echo(line, err=True)
    return code
