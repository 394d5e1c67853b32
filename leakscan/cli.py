"""Command-line wiring: the one place that prints and maps errors to exit codes (DESIGN §7)."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from leakscan import __version__, parallel
from leakscan.config import Config, find_config, load_config, parse_fail_on
from leakscan.errors import LeakscanError, UsageError
from leakscan.match import compile_matcher
from leakscan.model import RuleSet, ScanResult, Severity
from leakscan.report import text as text_report
from leakscan.report.options import RenderOptions
from leakscan.report.progress import progress_line
from leakscan.rulefile import load_builtin, load_rule_file, merge
from leakscan.scan import Settings, example_problems, failing, scan_items
from leakscan.sources import worktree

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_FAIL_ON = "medium"
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")
Renderer = Callable[[ScanResult, RuleSet, RenderOptions], str]


def _render_json(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import json as json_report

    return json_report.render(result, rules, options)


RENDERERS: dict[str, Renderer] = {"text": text_report.render, "json": _render_json}
_SIZE = re.compile(r"(?i)\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*")


class _Cli(click.Group):
    """Maps LeakscanError to exit 2 with its sentence, and Ctrl-C to 130, for every command."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LeakscanError as exc:
            click.echo(f"leakscan: error: {exc}", err=True)
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


def _scan_options(f: Callable[..., object]) -> Callable[..., object]:
    options = [
        click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text",
                     help="Report format."),
        click.option("-o", "--output", type=click.Path(dir_okay=False),
                     help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False),
                     help="Exit 1 when a finding at or above this severity is not suppressed "
                     "[default: medium]."),
        click.option("--config", "config_path", type=str,
                     help="Config file (default: $LEAKSCAN_CONFIG, then .leakscan.yaml at the root)."),
        click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
                     help="Extra rule file (same format as rules/stripe.yaml); repeatable."),
        click.option("--show-secrets", is_flag=True, help="Print raw keys. Off by default."),
        click.option("--include-ignored", is_flag=True, help="Also scan files git ignores."),
        click.option("--max-file-size", default="50MiB", show_default=True,
                     help="Skip files larger than this (bytes, or with K/M/G suffix)."),
        click.option("--no-color", is_flag=True, help="No colour, even on a terminal."),
        click.option("--no-progress", is_flag=True, help="No progress bar."),
        click.option("-v", "--verbose", is_flag=True, help="Say what was scanned and skipped."),
        click.option("-q", "--quiet", is_flag=True, help="Only the report; no summary line."),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


_GIT_SOURCES = ("history", "range_spec", "since", "staged")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@_scan_options
@click.option("--history", is_flag=True,
              help="Scan every blob reachable from every branch, tag and ref of the repository.")
@click.option("--unreachable", is_flag=True,
              help="With --history: also every object no ref reaches (deleted branches, force-pushes).")
@click.option("--range", "range_spec", metavar="BASE..HEAD",
              help="Scan only what the commits of BASE..HEAD added.")
@click.option("--since", metavar="REF", help="Same as --range REF..HEAD.")
@click.option("--staged", is_flag=True,
              help="Scan the index (what is about to be committed): all staged files, or PATHS.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes [default: the number of CPUs; one for small working-tree scans].")
@click.pass_context
def scan(ctx: click.Context, paths: tuple[str, ...], **opts: object) -> None:
    """Scan PATHS (default: the current directory) for Stripe keys.

    With --history, --range or --since, PATHS is at most one repository (default: the current one);
    with --staged, an optional repository followed by the paths to check."""
    chosen = [name for name in _GIT_SOURCES if opts[name]]
    if len(chosen) > 1:
        raise UsageError("--history, --range, --since and --staged are different scans; choose one.")
    if opts["unreachable"] and not opts["history"]:
        raise UsageError("--unreachable only applies to --history.")
    if opts["staged"]:
        ctx.exit(_scan_staged(list(paths), opts))
    if chosen:
        ctx.exit(_scan_git(paths, opts))
    plan = worktree.plan(list(paths), Path.cwd())
    config = _load_config(opts, plan.root)
    settings = _settings(config, opts)
    max_size = parse_size(str(opts["max_file_size"]))
    entries = list(
        worktree.entries(plan, include_ignored=bool(opts["include_ignored"]), excludes=config.exclude_paths)
    )
    read = parallel.bound(worktree.read_entry, max_size=max_size)
    workers = int(str(opts["jobs"])) if opts["jobs"] else parallel.worker_count(len(entries))
    result = parallel.scan_parallel(
        settings, entries, read, target=str(plan.root), mode=plan.mode, workers=workers
    )
    ctx.exit(_finish(result, settings, config, opts))


def _scan_git(paths: tuple[str, ...], opts: dict[str, object]) -> int:
    from leakscan import gitscan  # not needed by the other scans: keep their start-up light

    if len(paths) > 1:
        raise UsageError(f"a git history scan takes one repository, not {len(paths)} paths.")
    repo = Path(paths[0]) if paths else Path(".")
    config = _load_config(opts, repo)
    settings = _settings(config, opts)
    options = gitscan.Options(
        jobs=int(opts["jobs"] or _cpu_count()),  # type: ignore[call-overload]
        max_size=parse_size(str(opts["max_file_size"])),
        excludes=config.exclude_paths,
        start_progress=_progress_starter(opts),
    )
    try:
        if opts["history"]:
            result = gitscan.scan_history(settings, repo, bool(opts["unreachable"]), options)
        else:
            spec = str(opts["range_spec"] or f"{opts['since']}..HEAD")
            result = gitscan.scan_range(settings, repo, spec, options)
    finally:
        _clear_progress(opts)
    return _finish(result, settings, config, opts)


def _scan_staged(args: list[str], opts: dict[str, object]) -> int:
    from leakscan.sources import staged

    repo, paths = staged.split_repo(args)
    index = staged.read_index(repo, paths, Path.cwd())
    config = _load_config(opts, index.root)
    settings = _settings(config, opts)
    items = staged.staged_files(index, parse_size(str(opts["max_file_size"])), config.exclude_paths)
    result = scan_items(settings, items, target=str(index.root), mode="staged", notes=index.notes)
    return _finish(result, settings, config, opts)


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
    options = RenderOptions(bool(opts["show_secrets"]), color, fail_on, __version__)
    rendered = RENDERERS[fmt](result, settings.rules, options)
    if output:
        write_atomically(Path(str(output)), rendered)
    else:
        click.echo(rendered, nl=False)
    s = result.summary
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


def _load_config(opts: dict[str, object], root: Path) -> Config:
    path = find_config(opts["config_path"] and str(opts["config_path"]), dict(os.environ), root)
    return load_config(path)


def _settings(config: Config, opts: dict[str, object]) -> Settings:
    extra = tuple(Path(p) for p in opts.get("rule_files") or ())  # type: ignore[attr-defined]
    rules = load_rules(config.rule_files + extra)
    return Settings(rules, compile_matcher(rules.rules), config.allow_secrets)


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


def write_atomically(path: Path, text: str) -> None:
    """Temp file + rename: an interrupted run never leaves a truncated report behind."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report ({exc.strerror or exc}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def main() -> None:
    cli(prog_name="leakscan")
