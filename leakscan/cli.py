"""Command-line wiring: the one place that prints and maps errors to exit codes (DESIGN §7)."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from leakscan import __version__, parallel
from leakscan import baseline as baseline_file
from leakscan.atomic import write_atomically
from leakscan.config import FILE_NAME, Config, find_config, load_config, parse_fail_on
from leakscan.errors import LeakscanError, SourceError, UsageError
from leakscan.event import MODES, Target, choose, load_event
from leakscan.fingerprint import redact
from leakscan.interrupt import interrupt_guard, until_interrupted
from leakscan.match import DEFAULT_TIMEOUT, compile_matcher, find_matches
from leakscan.model import BaselineEntry, RuleSet, ScanResult, ScanSummary, Severity
from leakscan.report import text as text_report
from leakscan.report.options import RenderOptions
from leakscan.report.progress import progress_line
from leakscan.rulefile import load_builtin, load_rule_file, merge
from leakscan.scan import Settings, example_problems, failing, scan_items
from leakscan.sources import worktree
from leakscan.sources.files import display_path

if TYPE_CHECKING:  # these load only when their command runs: `scan` starts fast
    from leakscan import importers
    from leakscan.executors import Executor
    from leakscan.many import Progress
    from leakscan.repotask import RepoTask

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
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


class _Cli(click.Group):
    """Maps LeakscanError to exit 2 with its sentence, and Ctrl-C to 130, for every command."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LeakscanError as exc:
            click.echo(f"leakscan: error: {redact_keys(str(exc))}", err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("leakscan: interrupted; no report was written.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: say so without a traceback, which could quote content
            click.echo(
                f"leakscan: internal error ({type(exc).__name__}); the scan did not finish. "
                "Please report it with the command you ran.",
                err=True,
            )
            if os.environ.get("LEAKSCAN_DEBUG"):
                raise
            ctx.exit(EXIT_ERROR)
        return None  # unreachable: ctx.exit raises


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leakscan")
def cli() -> None:
    """Find leaked Stripe credentials in files, working trees and git histories."""


_GIT_SOURCES = ("history", "range_spec", "since", "staged")


def _apply(options: list[Callable[..., object]], f: Callable[..., object]) -> Callable[..., object]:
    for option in reversed(options):
        f = option(f)
    return f


def _settings_options(f: Callable[..., object]) -> Callable[..., object]:
    """Config, rules, limits and verbosity: every scanning command has them."""
    return _apply([
        click.option("--config", "config_path", type=str,
                     help="Config file (default: $LEAKSCAN_CONFIG, then .leakscan.yaml at the root)."),
        click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
                     help="Extra rule file (same format as rules/stripe.yaml); repeatable."),
        click.option("--include-ignored", is_flag=True, help="Also scan files git ignores."),
        click.option("--max-file-size", default="50MiB", show_default=True,
                     help="Skip files larger than this (bytes, or with K/M/G suffix)."),
        click.option("--rule-timeout", type=click.FloatRange(min=0.01), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="SECONDS",
                     help="Time one rule may spend on one file; past it the scan is incomplete "
                     "(exit 2)."),
        click.option("--no-progress", is_flag=True, help="No progress bar."),
        click.option("-v", "--verbose", is_flag=True, help="Say what was scanned and skipped."),
        click.option("-q", "--quiet", is_flag=True, help="Only the report; no summary line."),
    ], f)  # fmt: skip


def _source_options(f: Callable[..., object]) -> Callable[..., object]:
    """What to scan (paths, or which part of a repository): shared by `scan` and `baseline`."""
    return _apply([
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--history", is_flag=True,
                     help="Scan every blob reachable from every branch, tag and ref of the repository."),
        click.option("--unreachable", is_flag=True,
                     help="With --history: also every object no ref reaches (deleted branches, "
                     "force-pushes)."),
        click.option("--range", "range_spec", metavar="BASE..HEAD",
                     help="Scan only what the commits of BASE..HEAD added."),
        click.option("--since", metavar="REF", help="Same as --range REF..HEAD."),
        click.option("--staged", is_flag=True,
                     help="Scan the index (what is about to be committed): all staged files, or PATHS."),
        click.option("-j", "--jobs", type=click.IntRange(min=1),
                     help="Worker processes [default: the number of CPUs; one for small "
                     "working-tree scans]."),
        _settings_options,
    ], f)  # fmt: skip


def _report_options(f: Callable[..., object]) -> Callable[..., object]:
    return _apply([
        click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text",
                     help="Report format."),
        click.option("-o", "--output", type=click.Path(dir_okay=False),
                     help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False),
                     help="Exit 1 when a finding at or above this severity is not suppressed "
                     "[default: medium]."),
        click.option("--show-secrets", is_flag=True, help="Print raw keys. Off by default."),
        click.option("--no-color", is_flag=True, help="No colour, even on a terminal."),
    ], f)  # fmt: skip


def _baseline_options(f: Callable[..., object]) -> Callable[..., object]:
    return _apply([
        click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
                     help="Baseline file of known findings (default: `baseline:` in the config, "
                     f"then {baseline_file.FILE_NAME} at the root)."),
        click.option("--no-baseline", is_flag=True, help="Ignore any baseline file."),
        click.option("--report-stale", is_flag=True,
                     help="List baseline entries this scan no longer finds."),
    ], f)  # fmt: skip




def _verify_options(f: Callable[..., object]) -> Callable[..., object]:
    return _apply([
        click.option("--verify", is_flag=True,
                     help="Ask Stripe's API whether each sk_/rk_/sk_org_ key still works "
                     "(one read-only request per key; shows in the key owner's request logs)."),
        click.option("--verify-timeout", type=click.FloatRange(min=0.01), default=5.0,
                     show_default=True, help="Seconds to wait for each verification request."),
        click.option("--verify-max-requests", type=click.IntRange(min=0), default=100,
                     show_default=True, help="At most this many verification requests a run."),
        click.option("--verify-concurrency", type=click.IntRange(min=1, max=16), default=4,
                     show_default=True, help="Verification requests in flight at once."),
        click.option("--stripe-context", type=str,
                     help="Account (acct_…) for verifying organization keys (Stripe-Context)."),
    ], f)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Scanned:
    result: ScanResult
    settings: Settings
    config: Config
    root: Path
    baseline: tuple[BaselineEntry, ...]


def _scan_sources(paths: tuple[str, ...], opts: dict[str, object], *, use_baseline: bool) -> _Scanned:
    """Source selection, config, rules, baseline and the scan itself: one place for every command."""
    chosen = [name for name in _GIT_SOURCES if opts[name]]
    if len(chosen) > 1:
        raise UsageError("--history, --range, --since and --staged are different scans; choose one.")
    if opts["unreachable"] and not opts["history"]:
        raise UsageError("--unreachable only applies to --history.")
    if opts["staged"]:
        return _scan_staged(list(paths), opts, use_baseline=use_baseline)
    if chosen:
        return _scan_git(paths, opts, use_baseline=use_baseline)
    return _scan_tree(paths, opts, use_baseline=use_baseline)


def _scan_tree(paths: tuple[str, ...], opts: dict[str, object], *, use_baseline: bool) -> _Scanned:
    plan = worktree.plan(list(paths), Path.cwd())
    config = _load_config(opts, plan.root)
    known = _load_baseline(opts, config, plan.root) if use_baseline else ()
    settings = _settings(config, opts, baseline_file.keys(known))
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
            settings, listed, read, target=display_path(str(plan.root)), mode=plan.mode,
            workers=workers,
        )  # fmt: skip
    return _Scanned(result, settings, config, plan.root, known)


@cli.command()
@_source_options
@_report_options
@_baseline_options
@_verify_options
@click.pass_context
def scan(ctx: click.Context, /, paths: tuple[str, ...], **opts: object) -> None:
    """Scan PATHS (default: the current directory) for Stripe keys."""
    scanned = _scan_sources(paths, opts, use_baseline=not opts["no_baseline"])
    result = scanned.result
    if opts["report_stale"]:
        stale = baseline_file.stale(scanned.baseline, result.findings)
        result = dataclasses.replace(
            result, summary=dataclasses.replace(result.summary, stale_baseline=stale)
        )
    if opts["verify"]:
        result = _verify(result, scanned.settings, opts)
    code = _finish(result, scanned.settings, scanned.config, opts)
    if result.summary.stale_baseline is not None and not opts["quiet"]:
        for line in text_report.stale_lines(result.summary.stale_baseline):
            click.echo(line, err=True)
    ctx.exit(code)


def _load_baseline(opts: dict[str, object], config: Config, root: Path) -> tuple[BaselineEntry, ...]:
    """--baseline > `baseline:` in the config > .leakscan-baseline.json at the root, if present."""
    if opts["baseline_path"]:
        return baseline_file.load(Path(str(opts["baseline_path"])))
    if config.baseline is not None:
        return baseline_file.load(config.baseline)
    default = root / baseline_file.FILE_NAME
    return baseline_file.load(default) if default.is_file() else ()


def _verify(result: ScanResult, settings: Settings, opts: dict[str, object]) -> ScanResult:
    from leakscan import liveness, verify  # network code: only with --verify

    options = verify.VerifyOptions(
        base_url=verify.base_url(dict(os.environ)),
        timeout=float(str(opts["verify_timeout"])),
        concurrency=int(str(opts["verify_concurrency"])),
        max_requests=int(str(opts["verify_max_requests"])),
        stripe_context=verify.stripe_context(str(opts["stripe_context"] or "") or None),
    )
    secrets = liveness.keys_to_check(result.findings, settings.rules)
    if secrets:
        click.echo(text_report.verify_warning(len(secrets), options.base_url), err=True)
    results = verify.verify_keys(secrets, options)
    return dataclasses.replace(result, findings=liveness.apply(result.findings, results))


@cli.command()
@_source_options
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help=f"Where to write the baseline [default: {baseline_file.FILE_NAME} at the root].")
@click.option("--from-gitleaks", type=click.Path(dir_okay=False),
              help="Start from a gitleaks JSON report: its Stripe keys, by SHA-256 (no scan).")
@click.option("--from-detect-secrets", type=click.Path(dir_okay=False),
              help="Start from a detect-secrets .secrets.baseline: keys this scan finds whose "
              "SHA-1 it lists.")  # fmt: skip
@click.pass_context
def baseline(ctx: click.Context, /, paths: tuple[str, ...], **opts: object) -> None:
    """Write the findings of PATHS as a baseline: later scans fail only on new keys."""
    if opts["from_gitleaks"] and opts["from_detect_secrets"]:
        raise UsageError("use --from-gitleaks or --from-detect-secrets, not both.")
    if opts["from_gitleaks"]:
        entries, root = _gitleaks_entries(paths, opts)
    else:
        entries, root = _scanned_entries(paths, opts)
    output = Path(str(opts["output"])) if opts["output"] else root / baseline_file.FILE_NAME
    write_atomically(output, baseline_file.render(entries))
    if not opts["quiet"]:
        click.echo(f"leakscan: wrote {len(entries)} baseline entr{'y' if len(entries) == 1 else 'ies'}"
                   f" to {output}.", err=True)  # fmt: skip
    ctx.exit(EXIT_CLEAN)


def _gitleaks_entries(
    paths: tuple[str, ...], opts: dict[str, object]
) -> tuple[tuple[BaselineEntry, ...], Path]:
    """The Stripe keys of a gitleaks report (no scan); the root only places the output file."""
    plan = worktree.plan(list(paths), Path.cwd())
    config = _load_config(opts, plan.root)
    source = Path(str(opts["from_gitleaks"]))
    from leakscan import importers

    doc = importers.read_json(source, "gitleaks report")
    imported = importers.from_gitleaks(doc, _settings(config, opts), source)
    _say_imported(imported, "gitleaks", opts)
    return imported.entries, plan.root


def _scanned_entries(
    paths: tuple[str, ...], opts: dict[str, object]
) -> tuple[tuple[BaselineEntry, ...], Path]:
    """Every finding of a scan, or only those a detect-secrets baseline knows (by SHA-1)."""
    scanned = _scan_sources(paths, opts, use_baseline=False)
    summary = scanned.result.summary
    if opts["verbose"]:
        for line in text_report.verbose_lines(summary):
            click.echo(line, err=True)
    unreadable = any(k.reason.startswith("unreadable") for k in summary.skipped)
    nothing_read = unreadable and summary.files == 0 and summary.blobs == 0
    if nothing_read or any(k.incomplete for k in summary.skipped):
        raise SourceError("the scan did not finish, so no baseline was written; see --verbose.")
    if not opts["from_detect_secrets"]:
        return baseline_file.entries_from_findings(scanned.result.findings), scanned.root
    source = Path(str(opts["from_detect_secrets"]))
    from leakscan import importers

    doc = importers.read_json(source, "detect-secrets baseline")
    imported = importers.from_detect_secrets(doc, scanned.result.findings, source)
    _say_imported(imported, "detect-secrets", opts)
    return imported.entries, scanned.root


def _say_imported(imported: importers.Imported, tool: str, opts: dict[str, object]) -> None:
    if opts["quiet"]:
        return
    click.echo(f"leakscan: imported {len(imported.entries)} Stripe key(s) from {imported.total} "
               f"{tool} result(s).", err=True)  # fmt: skip
    for reason, count in imported.unmapped:
        click.echo(f"leakscan: {count} {tool} result(s) not imported: {reason}.", err=True)


def _scan_git(paths: tuple[str, ...], opts: dict[str, object], *, use_baseline: bool) -> _Scanned:
    if len(paths) > 1:
        raise UsageError(f"a git history scan takes one repository, not {len(paths)} paths.")
    repo = Path(paths[0]) if paths else Path(".")
    spec = None if opts["history"] else str(opts["range_spec"] or f"{opts['since']}..HEAD")
    return _collect_git(repo, opts, spec, bool(opts["unreachable"]), use_baseline=use_baseline)


def _collect_git(
    repo: Path,
    opts: dict[str, object],
    spec: str | None,
    unreachable: bool = False,
    *,
    use_baseline: bool = True,
) -> _Scanned:
    """The whole history (spec None) or the commits of a BASE..HEAD range."""
    from leakscan import gitscan  # not needed by the other scans: keep their start-up light

    config = _load_config(opts, repo)
    entries = _load_baseline(opts, config, repo) if use_baseline else ()
    settings = _settings(config, opts, baseline_file.keys(entries))
    options = gitscan.Options(
        jobs=int(opts.get("jobs") or _cpu_count()),  # type: ignore[call-overload]
        max_size=parse_size(str(opts["max_file_size"])),
        excludes=config.exclude_paths,
        start_progress=_progress_starter(opts),
    )
    try:
        with interrupt_guard():
            if spec is None:
                result = gitscan.scan_history(settings, repo, unreachable, options)
            else:
                result = gitscan.scan_range(settings, repo, spec, options)
    finally:
        _clear_progress(opts)
    if spec is not None and config.origin and Path(config.origin).parent.resolve() == repo.resolve():
        from leakscan.sources.git import changed_in_range

        if changed_in_range(repo, spec, FILE_NAME):
            click.echo(f"leakscan: warning: the scanned commits change {FILE_NAME}, and that new config "
                       "was used; pass --config with a trusted file to scan untrusted changes.",
                       err=True)  # fmt: skip
    return _Scanned(result, settings, config, repo, entries)


def _scan_staged(args: list[str], opts: dict[str, object], *, use_baseline: bool) -> _Scanned:
    from leakscan.sources import staged

    repo, paths = staged.split_repo(args)
    index = staged.read_index(repo, paths, Path.cwd())
    config = _load_config(opts, index.root)
    entries = _load_baseline(opts, config, index.root) if use_baseline else ()
    settings = _settings(config, opts, baseline_file.keys(entries))
    items = staged.staged_files(index, parse_size(str(opts["max_file_size"])), config.exclude_paths)
    with interrupt_guard() as interrupted:
        items = until_interrupted(items, interrupted)
        result = scan_items(settings, items, target=display_path(str(index.root)), mode="staged",
                            notes=index.notes)  # fmt: skip
    return _Scanned(result, settings, config, index.root, entries)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


PROGRESS_MIN_BYTES = 32 << 20  # smaller scans finish before a bar would be readable
PROGRESS_EVERY = 0.2  # seconds between redraws


def _progress_starter(opts: dict[str, object]) -> Callable[[int, int], Callable[[int, int], None] | None] | None:
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
            click.echo(f"\r{line}\033[K", err=True, nl=False)

        update(0, 0)
        return update

    return start


def _clear_progress(opts: dict[str, object]) -> None:
    if _progress_starter(opts) is not None:
        click.echo("\r\033[K", err=True, nl=False)


def _finish(result: ScanResult, settings: Settings, config: Config, opts: dict[str, object]) -> int:
    """Render, write, summarise; return the exit code."""
    fail_on = _fail_on(opts, config)
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
        bool(opts["show_secrets"]), color, fail_on, __version__, show_suppressed=bool(opts["verbose"])
    )
    rendered = RENDERERS[fmt](result, settings.rules, options)
    if fmt == "sarif" and _sarif_truncated(result):
        from leakscan.report import sarif as sarif_report

        click.echo(f"leakscan: warning: {sarif_report.cap_message(len(result.findings))}", err=True)
    if output:
        write_atomically(Path(str(output)), rendered)
    else:
        click.echo(rendered, nl=False)
    s = result.summary
    if config.origin and not opts["quiet"]:
        click.echo(config_line(config), err=True)
    if config.exclude_paths and s.files == 0 and s.blobs == 0:
        click.echo("leakscan: warning: the config's exclude-paths left nothing to scan.", err=True)
    if opts["verbose"]:
        for line in text_report.verbose_lines(s):
            click.echo(line, err=True)
    unreadable = [k for k in s.skipped if k.reason.startswith("unreadable")]
    if not opts["quiet"]:
        if unreadable and not opts["verbose"]:
            click.echo(f"leakscan: warning: {len(unreadable)} file(s) could not be read "
                       "(run with --verbose to list them).", err=True)  # fmt: skip
        click.echo(text_report.summary_line(result, fail_on), err=True)
    incomplete = [k for k in s.skipped if k.incomplete]
    if incomplete:
        first = incomplete[0]
        click.echo(f"leakscan: error: the scan did not finish: {text_report.safe(first.path)}: "
                   f"{first.reason}.", err=True)  # fmt: skip
        return EXIT_ERROR
    if unreadable and s.files == 0 and s.blobs == 0:
        click.echo("leakscan: error: nothing could be read; check the permissions of the target.",
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


def _load_config(opts: dict[str, object], root: Path) -> Config:
    flag = str(opts["config_path"]) if opts["config_path"] else None
    path = find_config(flag, dict(os.environ), root)
    return load_config(path)


def _settings(
    config: Config, opts: dict[str, object], baseline: frozenset[tuple[str, str]] = frozenset()
) -> Settings:
    extra = tuple(Path(p) for p in opts.get("rule_files") or ())  # type: ignore[attr-defined]
    rules = load_rules(config.rule_files + extra)
    timeout = float(opts.get("rule_timeout") or DEFAULT_TIMEOUT)  # type: ignore[arg-type]
    return Settings(rules, compile_matcher(rules.rules, timeout), config.allow_secrets, baseline)


def load_rules(files: tuple[Path, ...]) -> RuleSet:
    return merge([load_builtin(), *(load_rule_file(p) for p in files)])


def _fail_on(opts: dict[str, object], config: Config) -> Severity | None:
    chosen = opts["fail_on"] or config.fail_on or DEFAULT_FAIL_ON
    return parse_fail_on(str(chosen), "--fail-on")


def parse_size(text: str) -> int:
    m = _SIZE.fullmatch(text)
    if not m:
        raise UsageError(f"--max-file-size {text!r} is not a size; use bytes or e.g. 50MiB.")
    unit = (m.group(2) or "b").lower()[0]
    return int(m.group(1)) * {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


@cli.command("scan-many")
@click.argument("source", type=click.Path())
@_settings_options
@_report_options
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the per-repository tasks run: a process pool here, or a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --executor dask: the scheduler, e.g. tcp://scheduler:8786.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="With --executor local: worker processes [default: the number of CPUs].")
@click.option("--state", "state_path", type=click.Path(dir_okay=False),
              help="Incremental state: scan only commits added since the run that wrote it.")
@click.option("--shard-size", default="256MiB", show_default=True,
              help="Split a repository whose history holds more than this into blob-id shards.")
@click.pass_context
def scan_many(ctx: click.Context, /, source: str, **opts: object) -> None:
    """Scan the history of every repository SOURCE names, and merge the findings into one report.

    SOURCE is a file listing repository paths or clone URLs (one a line, `#` comments), or a
    directory whose sub-directories are repositories."""
    from leakscan import many
    from leakscan.report import many as many_report
    from leakscan.sources.repolist import read_source
    from leakscan.state import State, load_state, rules_digest, save_state, updated

    _check_many_options(opts)
    specs = read_source(Path(source))
    root = Path(source) if Path(source).is_dir() else Path(source).parent
    config = _load_config(opts, root)
    settings = _settings(config, opts)
    state_path = Path(str(opts["state_path"])) if opts["state_path"] else None
    state = load_state(state_path) if state_path else State()
    plan = many.Plan(
        settings, state, rules_digest(settings.rules), parse_size(str(opts["shard_size"])),
        bool(opts["show_secrets"]), parse_size(str(opts["max_file_size"])), config.exclude_paths,
    )  # fmt: skip
    executor = _many_executor(opts)
    try:
        done = many.scan_many(specs, plan, executor, target=source,
                              on_progress=_many_progress(opts))  # fmt: skip
    finally:
        executor.close()
    code = _finish(done.result, settings, config, opts)
    if done.failed:
        for line in many_report.failed_lines(done.failed, len(specs)):
            click.echo(line, err=True)
    if state_path is not None:
        save_state(state_path, updated(state, plan.rules_digest, done.tips))
    ctx.exit(code)


def _check_many_options(opts: dict[str, object]) -> None:
    if opts["include_ignored"]:
        raise UsageError("--include-ignored applies to working-tree scans; scan-many scans histories.")
    if opts["executor"] == "dask" and not opts["scheduler"]:
        raise UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://scheduler:8786).")
    if opts["executor"] != "dask" and opts["scheduler"]:
        raise UsageError("--scheduler only applies to --executor dask.")
    if opts["executor"] == "dask" and opts["jobs"]:
        raise UsageError("--jobs sizes the local pool; a Dask cluster has as many workers as it has.")


def _many_executor(opts: dict[str, object]) -> Executor[RepoTask]:
    from leakscan.repotask import run_repo_task

    if opts["executor"] == "dask":
        from leakscan.executors.cluster import DaskExecutor

        return DaskExecutor(run_repo_task, str(opts["scheduler"]))
    from leakscan.executors.local import LocalExecutor

    return LocalExecutor(run_repo_task, int(opts["jobs"] or os.cpu_count() or 1))  # type: ignore[call-overload]


def _many_progress(opts: dict[str, object]) -> Callable[[Progress], None] | None:
    """A progress line on a terminal; with --verbose elsewhere, one line per finished repository."""
    from leakscan.report import many as many_report

    tty = sys.stderr.isatty() and not opts["no_progress"] and not opts["quiet"]
    if not tty and not opts["verbose"]:
        return None

    def show(p: Progress) -> None:
        if tty:
            line = many_report.progress_line(p.done, p.total, p.bytes, p.seconds)
            end = "\n" if p.done == p.total and p.finished else ""
            click.echo(f"\r{line}\033[K{end}", err=True, nl=False)
        elif p.finished:
            click.echo(many_report.finished_line(p.done, p.total, p.finished, p.finished_blobs,
                                                 p.finished_bytes), err=True)  # fmt: skip

    return show


@cli.group()
def rules() -> None:
    """List the rules, or check a rule file."""


@rules.command("list")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
              help="Also list the rules of this file; repeatable.")  # fmt: skip
def rules_list(rule_files: tuple[str, ...]) -> None:
    """Every rule: id, key type, mode, severity, title."""
    rs = load_rules(tuple(Path(p) for p in rule_files))
    rows = [(r.id, r.key_type, r.mode or "-", r.severity.label, r.title) for r in rs.rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])


@rules.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def rules_check(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Validate rule FILES: YAML, fields, regexes, and each rule's examples."""
    failed = False
    for name in files:
        user = load_rule_file(Path(name))
        rs = merge([load_builtin(), user])
        settings = Settings(rs, compile_matcher(rs.rules))
        problems = [p for r in user.rules for p in example_problems(settings, r.id)]
        for p in problems:
            click.echo(f"{name}: {p}", err=True)
        failed |= bool(problems)
        if not problems:
            click.echo(f"{name}: {len(user.rules)} rule(s) OK")
    ctx.exit(EXIT_ERROR if failed else EXIT_CLEAN)


def _scan_target(path: str, target: Target, opts: dict[str, object]) -> _Scanned:
    """Scan what a CI event or a git hook asked for."""
    use_baseline = not opts["no_baseline"]
    if target.mode == "tree":
        return _scan_tree((path,), opts, use_baseline=use_baseline)
    if target.mode == "none":
        config = _load_config(opts, Path(path))
        empty = ScanResult(ScanSummary(target=path, mode="range", files=0, blobs=0, bytes=0), ())
        return _Scanned(empty, _settings(config, opts), config, Path(path), ())
    spec = target.range if target.mode == "range" else None
    return _collect_git(Path(path), opts, spec, use_baseline=use_baseline)


@cli.group()
def ci() -> None:
    """Run leakscan in CI: work out what to scan from the CI event."""


@ci.command("github")
@click.option("--path", default=".", show_default=True, help="The repository to scan.")
@click.option("--mode", type=click.Choice(MODES), default="auto", show_default=True,
              help="auto: from the event; history: every commit; range: BASE..HEAD; tree: files.")
@click.option("--base", help="Base commit for mode range (default: from the event).")
@click.option("--head", help="Head commit for mode range (default: from the event, else HEAD).")
@click.option("--sarif-file", default="leakscan.sarif", show_default=True,
              help="Where to write the SARIF report for code scanning.")
@_settings_options
@_report_options
@_baseline_options
@click.pass_context
def ci_github(ctx: click.Context, /, path: str, mode: str, base: str | None, head: str | None,
              sarif_file: str, **opts: object) -> None:  # fmt: skip
    """GitHub Actions: scan what the event changed; write SARIF, annotations, summary, outputs."""
    from leakscan.report import github as github_report
    from leakscan.report import sarif as sarif_report

    env = os.environ
    event = load_event(env.get("GITHUB_EVENT_PATH"))
    target = choose(Path(path), env.get("GITHUB_EVENT_NAME", ""), event,
                    mode=mode, base=base, head=head)  # fmt: skip
    click.echo(f"leakscan: scanning {target.reason}", err=True)
    scanned = _scan_target(path, target, opts)
    result, settings, config = scanned.result, scanned.settings, scanned.config
    options = RenderOptions(False, False, _fail_on(opts, config), __version__)
    write_atomically(Path(sarif_file), sarif_report.render(result, settings.rules, options))
    if sarif_report.truncated(result):
        click.echo(f"leakscan: warning: {sarif_report.cap_message(len(result.findings))}", err=True)
    code = _finish(result, settings, config, opts)
    for line in github_report.annotation_lines(result, settings.rules):
        click.echo(line)
    if env.get("GITHUB_STEP_SUMMARY"):
        append_text(Path(env["GITHUB_STEP_SUMMARY"]),
                    github_report.summary(result, settings.rules, options))  # fmt: skip
    active = sum(1 for f in result.findings if f.suppressed is None)
    if env.get("GITHUB_OUTPUT"):
        append_text(Path(env["GITHUB_OUTPUT"]),
                    github_output({"findings": str(active), "sarif-file": sarif_file}))  # fmt: skip
    ctx.exit(code)


@cli.group()
def hook() -> None:
    """Entry points for git hooks (the pre-commit hook `leakscan-push` runs `hook pre-push`)."""


@hook.command("pre-push")
@_settings_options
@_report_options
@_baseline_options
@click.pass_context
def hook_pre_push(ctx: click.Context, /, **opts: object) -> None:
    """Scan the commits being pushed: $PRE_COMMIT_FROM_REF..$PRE_COMMIT_TO_REF.

    Without them (pre-commit sets neither when a push starts at a root commit), scan the commits of
    $PRE_COMMIT_LOCAL_BRANCH (default HEAD) that no remote-tracking branch has."""
    env = os.environ
    base, head = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    spec = f"{base}..{head}" if base and head else f"..{env.get('PRE_COMMIT_LOCAL_BRANCH') or 'HEAD'}"
    scanned = _collect_git(Path("."), opts, spec, use_baseline=not opts["no_baseline"])
    ctx.exit(_finish(scanned.result, scanned.settings, scanned.config, opts))


def github_output(values: dict[str, str]) -> str:
    """Lines for $GITHUB_OUTPUT; a value with a newline uses the delimiter form."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            lines += [f"{name}<<LEAKSCAN_EOF", value, "LEAKSCAN_EOF"]
        else:
            lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


def append_text(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc}).") from None


def main() -> None:
    cli(prog_name="leakscan")
