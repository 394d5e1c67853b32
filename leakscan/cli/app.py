"""Command-line wiring with click: options, help and the commands. The scan itself is in pipeline.py;
what reaches the terminal goes through console.py (`main.py` runs a plain `scan` without click)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from leakscan import __version__
from leakscan.baseline import file as baseline_file
from leakscan.atomic import write_atomically
from leakscan.settings.config import in_directory
from leakscan.cli.console import EXIT_CLEAN, EXIT_ERROR, echo, guarded
from leakscan.errors import SourceError, UsageError
from leakscan.commands.event import MODES, choose, load_event
from leakscan.match.engine import DEFAULT_TIMEOUT, compile_matcher
from leakscan.model import BaselineEntry
from leakscan.commands.scan import (
    FAIL_ON_CHOICES,
    RENDERERS,
    collect_git,
    finish,
    load_config_for,
    load_rules,
    make_settings,
    parse_size,
    resolve_fail_on,
    run_scan,
    scan_sources,
    scan_target,
)
from leakscan.report import text as text_report
from leakscan.report.options import RenderOptions
from leakscan.settings.rules import load_builtin, load_rule_file, merge
from leakscan.scan.content import Settings, example_problems
from leakscan.sources import worktree

if TYPE_CHECKING:  # these load only when their command runs
    from leakscan.baseline import importers
    from leakscan.workers import Executor
    from leakscan.many.run import Progress
    from leakscan.many.task import RepoOutcome, RepoTask

_CLICK_EXITS = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


class _Cli(click.Group):
    """Maps LeakscanError to exit 2 with its sentence, and Ctrl-C to 130, for every command."""

    def invoke(self, ctx: click.Context) -> object:
        outcome = guarded(lambda: super(_Cli, self).invoke(ctx), passthrough=_CLICK_EXITS)
        ctx.exit(outcome if isinstance(outcome, int) else EXIT_CLEAN)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leakscan")
def cli() -> None:
    """Find leaked Stripe credentials in files, working trees and git histories."""


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


@cli.command()
@_source_options
@_report_options
@_baseline_options
@_verify_options
@click.pass_context
def scan(ctx: click.Context, /, paths: tuple[str, ...], **opts: object) -> None:
    """Scan PATHS (default: the current directory) for Stripe keys."""
    ctx.exit(run_scan(paths, opts))


@cli.command()
@_source_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help=f"Where to write the baseline [default: {baseline_file.FILE_NAME} at the root].",
)
@click.option(
    "--from-gitleaks",
    type=click.Path(dir_okay=False),
    help="Start from a gitleaks JSON report: its Stripe keys, by SHA-256 (no scan).",
)
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
    output = str(opts["output"]) if opts["output"] else in_directory(root, baseline_file.FILE_NAME)
    write_atomically(output, baseline_file.render(entries))
    if not opts["quiet"]:
        echo(f"leakscan: wrote {len(entries)} baseline entr{'y' if len(entries) == 1 else 'ies'}"
                   f" to {output}.", err=True)  # fmt: skip
    ctx.exit(EXIT_CLEAN)


def _gitleaks_entries(
    paths: tuple[str, ...], opts: dict[str, object]
) -> tuple[tuple[BaselineEntry, ...], str]:
    """The Stripe keys of a gitleaks report (no scan); the root only places the output file."""
    plan = worktree.plan(list(paths), os.getcwd())
    config = load_config_for(opts, plan.root)
    source = Path(str(opts["from_gitleaks"]))
    from leakscan.baseline import importers

    doc = importers.read_json(source, "gitleaks report")
    imported = importers.from_gitleaks(doc, make_settings(config, opts), source)
    _say_imported(imported, "gitleaks", opts)
    return imported.entries, plan.root


def _scanned_entries(
    paths: tuple[str, ...], opts: dict[str, object]
) -> tuple[tuple[BaselineEntry, ...], str]:
    """Every finding of a scan, or only those a detect-secrets baseline knows (by SHA-1)."""
    scanned = scan_sources(paths, opts, use_baseline=False)
    summary = scanned.result.summary
    if opts["verbose"]:
        for line in text_report.verbose_lines(summary):
            echo(line, err=True)
    unreadable = any(k.reason.startswith("unreadable") for k in summary.skipped)
    nothing_read = unreadable and summary.files == 0 and summary.blobs == 0
    if nothing_read or any(k.incomplete for k in summary.skipped):
        raise SourceError("the scan did not finish, so no baseline was written; see --verbose.")
    if not opts["from_detect_secrets"]:
        return baseline_file.entries_from_findings(scanned.result.findings), scanned.root
    source = Path(str(opts["from_detect_secrets"]))
    from leakscan.baseline import importers

    doc = importers.read_json(source, "detect-secrets baseline")
    imported = importers.from_detect_secrets(doc, scanned.result.findings, source)
    _say_imported(imported, "detect-secrets", opts)
    return imported.entries, scanned.root


def _say_imported(imported: importers.Imported, tool: str, opts: dict[str, object]) -> None:
    if opts["quiet"]:
        return
    echo(f"leakscan: imported {len(imported.entries)} Stripe key(s) from {imported.total} "
               f"{tool} result(s).", err=True)  # fmt: skip
    for reason, count in imported.unmapped:
        echo(f"leakscan: {count} {tool} result(s) not imported: {reason}.", err=True)


@cli.command("scan-many")
@click.argument("source", type=click.Path())
@_settings_options
@_report_options
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where the per-repository tasks run: a process pool here, or a Dask cluster.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --executor dask: the scheduler, e.g. tcp://scheduler:8786.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="With --executor local: worker processes [default: the number of CPUs].",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help="Incremental state: scan only commits added since the run that wrote it.",
)
@click.option(
    "--shard-size",
    default="256MiB",
    show_default=True,
    help="Split a repository whose history holds more than this into blob-id shards.",
)
@click.pass_context
def scan_many(ctx: click.Context, /, source: str, **opts: object) -> None:
    """Scan the history of every repository SOURCE names, and merge the findings into one report.

    SOURCE is a file listing repository paths or clone URLs (one a line, `#` comments), or a
    directory whose sub-directories are repositories."""
    from leakscan.many import run as many
    from leakscan.report import many as many_report
    from leakscan.many.repolist import read_source
    from leakscan.many.state import State, load_state, rules_digest, save_state, updated

    _check_many_options(opts)
    specs = read_source(Path(source))
    root = Path(source) if Path(source).is_dir() else Path(source).parent
    config = load_config_for(opts, root)
    settings = make_settings(config, opts)
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
    code = finish(done.result, settings, config, opts)
    if done.failed:
        for line in many_report.failed_lines(done.failed, len(specs)):
            echo(line, err=True)
    if state_path is not None:
        save_state(state_path, updated(state, plan.rules_digest, done.tips))
    ctx.exit(code)


def _check_many_options(opts: dict[str, object]) -> None:
    if opts["include_ignored"]:
        raise UsageError(
            "--include-ignored applies to working-tree scans; scan-many scans histories."
        )
    if opts["executor"] == "dask" and not opts["scheduler"]:
        raise UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://scheduler:8786).")
    if opts["executor"] != "dask" and opts["scheduler"]:
        raise UsageError("--scheduler only applies to --executor dask.")
    if opts["executor"] == "dask" and opts["jobs"]:
        raise UsageError(
            "--jobs sizes the local pool; a Dask cluster has as many workers as it has."
        )


def _many_executor(opts: dict[str, object]) -> Executor[RepoTask, RepoOutcome]:
    from leakscan.many.task import run_repo_task
    from leakscan.workers import each_task

    if opts["executor"] == "dask":
        from leakscan.workers.cluster import DaskExecutor

        return DaskExecutor(each_task(run_repo_task), str(opts["scheduler"]))
    from leakscan.workers.pool import LocalExecutor

    return LocalExecutor(each_task(run_repo_task), int(opts["jobs"] or os.cpu_count() or 1))  # type: ignore[call-overload]


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
            echo(f"\r{line}\033[K{end}", err=True, nl=False)
        elif p.finished:
            echo(many_report.finished_line(p.done, p.total, p.finished, p.finished_blobs,
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
        echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])


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
            echo(f"{name}: {p}", err=True)
        failed |= bool(problems)
        if not problems:
            echo(f"{name}: {len(user.rules)} rule(s) OK")
    ctx.exit(EXIT_ERROR if failed else EXIT_CLEAN)


@cli.group()
def ci() -> None:
    """Run leakscan in CI: work out what to scan from the CI event."""


@ci.command("github")
@click.option("--path", default=".", show_default=True, help="The repository to scan.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="auto: from the event; history: every commit; range: BASE..HEAD; tree: files.",
)
@click.option("--base", help="Base commit for mode range (default: from the event).")
@click.option("--head", help="Head commit for mode range (default: from the event, else HEAD).")
@click.option(
    "--sarif-file",
    default="leakscan.sarif",
    show_default=True,
    help="Where to write the SARIF report for code scanning.",
)
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
    echo(f"leakscan: scanning {target.reason}", err=True)
    scanned = scan_target(path, target, opts)
    result, settings, config = scanned.result, scanned.settings, scanned.config
    options = RenderOptions(False, False, resolve_fail_on(opts, config), __version__)
    write_atomically(Path(sarif_file), sarif_report.render(result, settings.rules, options))
    if sarif_report.truncated(result):
        echo(f"leakscan: warning: {sarif_report.cap_message(len(result.findings))}", err=True)
    code = finish(result, settings, config, opts)
    for line in github_report.annotation_lines(result, settings.rules):
        echo(line)
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
    spec = (
        f"{base}..{head}" if base and head else f"..{env.get('PRE_COMMIT_LOCAL_BRANCH') or 'HEAD'}"
    )
    scanned = collect_git(Path("."), opts, spec, use_baseline=not opts["no_baseline"])
    ctx.exit(finish(scanned.result, scanned.settings, scanned.config, opts))


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
