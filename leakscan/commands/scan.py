"""The `scan` command: from a ScanRequest to a finished scan, a report and an exit code.

Both parsers of the command line (`cli/fast.py` without click, `cli/app.py` with it) end here, so
a scan does the same thing whichever parsed it. The other commands reuse its pieces: `scan_sources`
(what to scan), `collect_git` (a history or a range), `finish` (render, write, summarise, exit code).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from leakscan import __version__
from leakscan.atomic import write_atomically
from leakscan.baseline import file as baseline_file
from leakscan.cli.console import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, echo
from leakscan.errors import UsageError
from leakscan.findings import failing
from leakscan.model import BaselineEntry, ScanResult, Severity, Skipped
from leakscan.report import RENDERERS
from leakscan.report import text as text_report
from leakscan.report.options import RenderOptions
from leakscan.report.progress import progress_bar, progress_line
from leakscan.scan.content import scan_items
from leakscan.scan.interrupt import interrupt_guard, until_interrupted
from leakscan.settings import load_settings, resolve_fail_on
from leakscan.settings.config import FILE_NAME, Config
from leakscan.units import display_path, human_size, parse_size

if TYPE_CHECKING:
    from pathlib import Path

    from leakscan.request import ScanRequest
    from leakscan.settings import Loaded, Settings
    from leakscan.settings.trusted import Policy

PROGRESS_MIN_BYTES = 32 << 20  # smaller scans finish before a bar would be readable
PROGRESS_EVERY = 0.2  # seconds between redraws
ProgressStarter = Callable[[int, int], Callable[[int, int], None] | None]


class Scanned(NamedTuple):
    """A finished scan and what it was run with."""

    result: ScanResult
    settings: Settings
    config: Config
    root: str
    baseline: tuple[BaselineEntry, ...]
    policy_note: str | None = (
        None  # the scanned commits change the scan policy (settings/trusted.py)
    )


def run_scan(request: ScanRequest) -> int:
    """The `scan` command: scan, compare with the baseline, verify, report; the exit code."""
    scanned = scan_sources(request, use_baseline=not request.no_baseline)
    result = scanned.result
    if request.report_stale:
        stale = baseline_file.stale(scanned.baseline, result.findings)
        result = result._replace(summary=result.summary._replace(stale_baseline=stale))
    if request.verify:
        result = verify_findings(result, scanned.settings, request)
    code = finish(result, scanned.settings, scanned.config, request)
    if result.summary.stale_baseline is not None and not request.quiet:
        for line in text_report.stale_lines(result.summary.stale_baseline):
            echo(line, err=True)
    return code


def scan_sources(request: ScanRequest, *, use_baseline: bool) -> Scanned:
    """Which scan the request names (tree, staged, history or range), with its settings, run."""
    chosen = [request.history, request.range_spec, request.since, request.staged]
    if sum(bool(c) for c in chosen) > 1:
        raise UsageError(
            "--history, --range, --since and --staged are different scans; choose one."
        )
    if request.unreachable and not request.history:
        raise UsageError("--unreachable only applies to --history.")
    if request.recurse_submodules and not request.history:
        raise UsageError("--recurse-submodules only applies to --history.")
    if request.fetch_missing and request.no_fetch:
        raise UsageError("--fetch-missing and --no-fetch contradict each other; choose one.")
    if request.staged:
        return scan_staged(request, use_baseline=use_baseline)
    if any(chosen):
        return scan_git(request, use_baseline=use_baseline)
    return scan_tree(request, use_baseline=use_baseline)


def scan_tree(request: ScanRequest, *, use_baseline: bool) -> Scanned:
    # Tree scans only (a staged scan does without): the fork workers and the directory walk.
    from leakscan.scan import tree
    from leakscan.sources import worktree

    plan = worktree.plan(list(request.paths), os.getcwd())
    loaded = load_settings(request, plan.root, use_baseline=use_baseline)
    max_size = parse_size(request.max_file_size)
    with interrupt_guard() as interrupted:
        listed = list(
            until_interrupted(
                worktree.entries(
                    plan,
                    include_ignored=request.include_ignored,
                    excludes=loaded.config.exclude_paths,
                ),
                interrupted,
            )
        )
        read = tree.bound(worktree.read_entry, max_size=max_size)
        workers = request.jobs or tree.worker_count(len(listed))
        result = tree.scan_parallel(
            loaded.settings,
            listed,
            read,
            target=display_path(plan.root),
            mode=plan.mode,
            workers=workers,
        )
    return Scanned(result, loaded.settings, loaded.config, plan.root, loaded.baseline)


def scan_git(request: ScanRequest, *, use_baseline: bool) -> Scanned:
    if len(request.paths) > 1:
        raise UsageError(
            f"a git history scan takes one repository, not {len(request.paths)} paths."
        )
    from pathlib import Path  # the git scans only: a tree scan imports no pathlib (~6 ms)

    repo = Path(request.paths[0]) if request.paths else Path(".")
    spec = None if request.history else request.range_spec or f"{request.since}..HEAD"
    return collect_git(repo, request, spec, request.unreachable, use_baseline=use_baseline)


def collect_git(
    repo: Path,
    request: ScanRequest,
    spec: str | None,
    unreachable: bool = False,
    *,
    use_baseline: bool = True,
) -> Scanned:
    """The whole history (spec None) or the commits of a BASE..HEAD range."""
    # Not needed by the other scans, which start faster without (~15 ms of imports).
    from leakscan.scan import history
    from leakscan.workers import available_cpus

    policy, loaded = _load_for_range(repo, request, spec, use_baseline)
    options = history.Options(
        jobs=request.jobs or available_cpus(),
        max_size=parse_size(request.max_file_size),
        excludes=loaded.config.exclude_paths,
        start_progress=progress_starter(request),
        fetch_missing=request.fetch_missing,
        on_fetched=say_fetched,
        fetch_progress=fetch_progress(request),
        recurse_submodules=request.recurse_submodules,
    )
    try:
        with interrupt_guard():
            if spec is None:
                result = history.scan_history(loaded.settings, repo, unreachable, options)
            else:
                result = history.scan_range(loaded.settings, repo, spec, options)
    finally:
        clear_progress(request)
    note = policy.note()
    if note:
        echo(f"leakscan: warning: {note}", err=True)
    return Scanned(result, loaded.settings, loaded.config, os.fspath(repo), loaded.baseline,
                   note)  # fmt: skip


def _load_for_range(
    repo: Path, request: ScanRequest, spec: str | None, use_baseline: bool
) -> tuple[Policy, Loaded]:
    """Settings for a history (the repository's own policy) or a range (the base commit's policy
    when the range changes it, unless --trust-config-changes: settings/trusted.py)."""
    from leakscan.settings.trusted import Policy, shown_origin, trusted_policy  # git scans only

    if spec is None:
        return Policy(os.fspath(repo)), load_settings(request, repo, use_baseline=use_baseline)
    with trusted_policy(repo, spec, trust=request.trust_config_changes) as policy:
        loaded = load_settings(request, policy.root, use_baseline=use_baseline)
    return policy, loaded._replace(config=shown_origin(loaded.config, policy))


def scan_staged(request: ScanRequest, *, use_baseline: bool) -> Scanned:
    from leakscan.sources import staged

    repo, paths = staged.split_repo(list(request.paths))
    index = staged.read_index(repo, paths, os.getcwd())
    loaded = load_settings(request, index.root, use_baseline=use_baseline)
    max_size = parse_size(request.max_file_size)
    items = staged.staged_files(index, max_size, loaded.config.exclude_paths)
    with interrupt_guard() as interrupted:
        result = scan_items(
            loaded.settings,
            until_interrupted(items, interrupted),
            target=display_path(index.root),
            mode="staged",
            notes=index.notes,
        )
    return Scanned(result, loaded.settings, loaded.config, os.fspath(index.root), loaded.baseline)


def verify_findings(result: ScanResult, settings: Settings, request: ScanRequest) -> ScanResult:
    from leakscan.verify import client, policy  # network code: only with --verify

    options = client.VerifyOptions(
        base_url=client.base_url(dict(os.environ)),
        timeout=request.verify_timeout,
        concurrency=request.verify_concurrency,
        max_requests=request.verify_max_requests,
        stripe_context=client.stripe_context(request.stripe_context or None),
    )
    secrets = policy.keys_to_check(result.findings, settings.rules)
    if secrets:
        echo(text_report.verify_warning(len(secrets), options.base_url), err=True)
    results = client.verify_keys(secrets, options)
    return result._replace(findings=policy.apply(result.findings, results))


def say_fetched(objects: int, nbytes: int) -> None:
    echo(f"leakscan: fetched {objects} missing object(s) ({human_size(nbytes)}) of the partial "
         "clone from its promisor remote", err=True)  # fmt: skip


def fetch_progress(request: ScanRequest) -> Callable[[int, int], None] | None:
    """A progress bar on stderr (a terminal only) while a partial clone's objects download."""
    if request.no_progress or request.quiet or not sys.stderr.isatty():
        return None

    def update(received: int, total: int) -> None:
        bar = progress_bar(received / total if total else 1.0)
        end = "\r\033[K" if received >= total else ""
        echo(f"\rleakscan: fetching missing objects {bar}  {received}/{total}\033[K{end}",
             err=True, nl=False)  # fmt: skip

    return update


def progress_starter(request: ScanRequest) -> ProgressStarter | None:
    """A progress bar on stderr for big scans on a terminal: start(blobs, bytes) -> update."""
    if request.no_progress or request.quiet or not sys.stderr.isatty():
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


def clear_progress(request: ScanRequest) -> None:
    if progress_starter(request) is not None:
        echo("\r\033[K", err=True, nl=False)


def finish(
    result: ScanResult,
    settings: Settings,
    config: Config,
    request: ScanRequest,
    *,
    write: bool = True,
) -> int:
    """Render, write (unless the caller writes its own), summarise; return the exit code."""
    fail_on = resolve_fail_on(request, config)
    color = use_color(request, os.environ, sys.stdout.isatty())
    options = RenderOptions(
        request.show_secrets, color, fail_on, __version__, show_suppressed=request.verbose
    )
    if write:
        rendered = RENDERERS[request.fmt](result, settings.rules, options)
        if request.fmt == "sarif":
            _warn_if_sarif_capped(result)
        if request.output:
            write_atomically(request.output, rendered)
        else:
            echo(rendered, nl=False)
    _say_summary(result, config, request, fail_on)
    problem = unfinished(result, request)
    if problem is not None:
        echo(f"leakscan: error: {problem}", err=True)
        return EXIT_ERROR
    return EXIT_FINDINGS if failing(result.findings, fail_on) else EXIT_CLEAN


def unfinished(result: ScanResult, request: ScanRequest) -> str | None:
    """Why this scan must exit 2 though it ran (a sentence), or None."""
    s = result.summary
    incomplete = [k for k in s.skipped if k.incomplete]
    if incomplete:
        first = incomplete[0]
        return f"the scan did not finish: {text_report.safe(first.path)}: {first.reason}."
    if _unreadable(result) and s.files == 0 and s.blobs == 0:
        return "nothing could be read; check the permissions of the target."
    if request.strict and s.skipped:
        return (f"--strict: {text_report.skipped_phrase(s.skipped)}; "
                "run with --verbose to list them.")  # fmt: skip
    return None


def use_color(request: ScanRequest, environ: Mapping[str, str], tty: bool) -> bool:
    """Colour the text report on stdout? The first that speaks decides: --no-color or --color,
    then NO_COLOR (no-color.org), then FORCE_COLOR (force-color.org) or CLICOLOR_FORCE other than
    0 (bixense.com/clicolors), then whether stdout is a terminal. Empty variables say nothing."""
    if request.fmt != "text" or request.output is not None:
        return False  # a report file, and the machine formats, are never coloured
    if request.no_color or request.color != "auto":
        return not request.no_color and request.color == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR") or environ.get("CLICOLOR_FORCE", "") not in ("", "0"):
        return True
    return tty


def _unreadable(result: ScanResult) -> list[Skipped]:
    return [k for k in result.summary.skipped if k.reason.startswith("unreadable")]


def _say_summary(
    result: ScanResult, config: Config, request: ScanRequest, fail_on: Severity | None
) -> None:
    """The lines on stderr after the report: config, excludes, skips, the summary line."""
    s = result.summary
    if request.redact and not request.quiet:
        echo("leakscan: note: --redact is not needed; leakscan redacts keys unless "
             "--show-secrets is given.", err=True)  # fmt: skip
    if config.origin and not request.quiet:
        echo(config_line(config), err=True)
    if config.ignored and not request.quiet:
        echo(ignored_line(config), err=True)
    if config.exclude_paths and s.files == 0 and s.blobs == 0:
        echo("leakscan: warning: the config's exclude-paths left nothing to scan.", err=True)
    if request.verbose:
        for line in text_report.verbose_lines(s):
            echo(line, err=True)
    if request.quiet:
        return
    unreadable = _unreadable(result)
    if unreadable and not request.verbose:
        echo(
            f"leakscan: warning: {len(unreadable)} file(s) could not be read "
            "(run with --verbose to list them).",
            err=True,
        )
    sparse = [k for k in s.skipped if text_report.skip_kind(k.reason) == text_report.SPARSE_KIND]
    if sparse:
        echo(f"leakscan: warning: {len(sparse)} file(s) outside the sparse checkout are not on "
             "disk and were not scanned; `leakscan scan --history` reads them from git.",
             err=True)  # fmt: skip
    partial = sum(k.container for k in s.skipped)
    if partial:
        echo(f"leakscan: warning: {partial} archive member(s) not fully scanned "
             "(--verbose lists them with the reason).", err=True)  # fmt: skip
    echo(text_report.summary_line(result, fail_on), err=True)


def _warn_if_sarif_capped(result: ScanResult) -> None:
    from leakscan.report import sarif

    if sarif.truncated(result):
        echo(f"leakscan: warning: {sarif.cap_message(len(result.findings))}", err=True)


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


def ignored_line(config: Config) -> str:
    """The repository's relaxations an org config forbade (`allow-repo-overrides: false`)."""
    return (f"leakscan: note: the org config forbids repository overrides (allow-repo-overrides: "
            f"false); not applied from {FILE_NAME}: {', '.join(config.ignored)}")  # fmt: skip
