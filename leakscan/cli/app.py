"""Command-line wiring with click: options, help, and one ScanRequest per command. What each command
does is in `leakscan/commands/`; `cli/fast.py` runs a plain `scan` without click."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import click

from leakscan import __version__
from leakscan.baseline.file import FILE_NAME as BASELINE_FILE
from leakscan.cli.console import EXIT_CLEAN, echo, guarded
from leakscan.commands.allow import run_allow
from leakscan.commands.audit import run_audit
from leakscan.commands.baseline import run_baseline
from leakscan.commands.completion import SHELLS, completion_script
from leakscan.commands.event import MODES
from leakscan.commands.rules import check_rules, list_rules
from leakscan.commands.scan import run_scan
from leakscan.match.engine import DEFAULT_TIMEOUT
from leakscan.request import (
    COLOR_CHOICES,
    DEFAULT_MAX_ARCHIVE_DEPTH,
    DEFAULT_MAX_FILE_SIZE,
    FAIL_ON_CHOICES,
    FORMATS,
    ScanRequest,
)

_CLICK_EXITS = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


class _Cli(click.Group):
    """Maps LeakscanError to exit 2 with its sentence, and Ctrl-C to 130, for every command."""

    def invoke(self, ctx: click.Context) -> object:
        outcome = guarded(lambda: super(_Cli, self).invoke(ctx), passthrough=_CLICK_EXITS)
        ctx.exit(outcome if isinstance(outcome, int) else EXIT_CLEAN)


class _Aliased(click.Option):
    """An option that also answers to `aliases` (gitleaks' names for it), which `--help` does not
    list: users coming from gitleaks keep their command lines, and the help stays as it was."""

    def __init__(self, *args: Any, aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = aliases
        self.opts.extend(aliases)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = copy.copy(self)
        shown.opts = [o for o in self.opts if o not in self.aliases]
        return click.Option.get_help_record(shown, ctx)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="leakscan")
def cli() -> None:
    """Find leaked Stripe credentials in files, working trees and git histories."""


def _apply(options: list[Callable[..., object]], f: Callable[..., object]) -> Callable[..., object]:
    for option in reversed(options):
        f = option(f)
    return f


def _settings_options(f: Callable[..., object]) -> Callable[..., object]:
    """Config, rules, limits and verbosity: every scanning command has them."""
    return _apply([
        click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                     help="Config file (default: $LEAKSCAN_CONFIG, then .leakscan.yaml at the root)."),
        click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
                     help="Extra rule file (same format as rules/stripe.yaml); repeatable."),
        click.option("--include-ignored", is_flag=True, help="Also scan files git ignores."),
        click.option("--max-file-size", default=DEFAULT_MAX_FILE_SIZE, show_default=True,
                     help="Skip files larger than this (bytes, or with K/M/G suffix)."),
        click.option("--rule-timeout", type=click.FloatRange(min=0.01), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="SECONDS",
                     help="Time one rule may spend on one file; past it the scan is incomplete "
                     "(exit 2)."),
        click.option("--max-archive-depth", type=click.IntRange(min=0),
                     default=DEFAULT_MAX_ARCHIVE_DEPTH, show_default=True,
                     help="Open archives, compressed files and images this many levels deep "
                     "(0: do not open them)."),
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
        _trust_option,
        click.option("--staged", is_flag=True,
                     help="Scan the index (what is about to be committed): all staged files, or PATHS."),
        click.option("-j", "--jobs", type=click.IntRange(min=1),
                     help="Worker processes [default: the number of CPUs; one for small "
                     "working-tree scans]."),
        click.option("--fetch-missing", is_flag=True,
                     help="A partial clone (--filter=blob:none): download the objects the history "
                     "needs that it never had, in one fetch from its promisor remote, and scan them."),
        click.option("--no-fetch", is_flag=True,
                     help="The default, said explicitly: a partial clone's missing objects stop the "
                     "scan (exit 2) instead of being fetched."),
        click.option("--recurse-submodules", is_flag=True,
                     help="With --history: also scan the history of each submodule whose "
                     "repository is present locally."),
        _settings_options,
    ], f)  # fmt: skip


def _trust_option(f: Callable[..., object]) -> Callable[..., object]:
    return click.option(
        "--trust-config-changes", is_flag=True,
        help="--range and `ci github`: apply the scanned commits' own changes to .leakscan.yaml "
        "and the rule and baseline files it names (default: use the base commit's).",
    )(f)  # fmt: skip


def _report_options(f: Callable[..., object], *, many: bool = False) -> Callable[..., object]:
    output_help = "Write the report to FILE (atomically) instead of stdout."
    if many:
        output_help += " With --format sarif: a directory, one SARIF per repository."
    return _apply([
        click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text",
                     cls=_Aliased, aliases=("--report-format",), help="Report format."),
        click.option("-o", "--output", type=click.Path(dir_okay=many),
                     cls=_Aliased, aliases=("--report-path",), help=output_help),
        click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False),
                     help="Exit 1 when a finding at or above this severity is not suppressed "
                     "[default: medium]."),
        click.option("--show-secrets", is_flag=True, help="Print raw keys. Off by default."),
        click.option("--no-color", is_flag=True, help="No colour, even on a terminal."),
        click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto",
                     help="always: in a pipe too; never: as --no-color."),
    ], f)  # fmt: skip


def _redact_option(f: Callable[..., object]) -> Callable[..., object]:
    """gitleaks' --redact, accepted so its command lines work: leakscan always redacts."""
    return click.option("--redact", is_flag=True, hidden=True)(f)


def _baseline_options(f: Callable[..., object]) -> Callable[..., object]:
    return _apply([
        click.option("-b", "--baseline", "baseline_path", type=click.Path(dir_okay=False),
                     help="Baseline file of known findings (default: `baseline:` in the config, "
                     f"then {BASELINE_FILE} at the root)."),
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
@_redact_option
@click.option("--strict", is_flag=True,
              help="Exit 2 when anything was skipped (too large, unreadable, a submodule, ...).")  # fmt: skip
@click.pass_context
def scan(ctx: click.Context, /, paths: tuple[str, ...], **opts: Any) -> None:
    """Scan PATHS (default: the current directory) for Stripe keys."""
    ctx.exit(run_scan(ScanRequest(paths=paths, **opts)))


@cli.command()
@_source_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help=f"Where to write the baseline [default: {BASELINE_FILE} at the root].",
)
@click.option(
    "--from-gitleaks",
    type=click.Path(dir_okay=False),
    help="Start from a gitleaks JSON report: its Stripe keys, by SHA-256 (no scan).",
)
@click.option("--from-detect-secrets", type=click.Path(dir_okay=False),
              help="Start from a detect-secrets .secrets.baseline: keys this scan finds whose "
              "SHA-1 it lists.")  # fmt: skip
@click.option("--audit", is_flag=True,
              help="Walk the baseline's entries in a terminal and record a verdict for each "
              "(true positive, false positive, accepted risk).")  # fmt: skip
@click.option("-b", "--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="With --audit: the baseline to audit [default: as `scan` finds it].")  # fmt: skip
@click.pass_context
def baseline(
    ctx: click.Context,
    /,
    paths: tuple[str, ...],
    from_gitleaks: str | None,
    from_detect_secrets: str | None,
    audit: bool,
    **opts: Any,
) -> None:
    """Write the findings of PATHS as a baseline: later scans fail only on new keys."""
    request = ScanRequest(paths=paths, **opts)
    if audit:
        if from_gitleaks or from_detect_secrets or request.output:
            raise click.UsageError("--audit reads the baseline; it takes no --from-* or --output.")
        ctx.exit(run_audit(request))
    if request.baseline_path:
        raise click.UsageError("--baseline names the file to audit; use --output to write one.")
    run_baseline(request, from_gitleaks, from_detect_secrets)
    ctx.exit(EXIT_CLEAN)


@cli.command()
@click.argument("finding")
@click.option(
    "--reason",
    required=True,
    help="Why this secret may stay; shown whenever the finding is suppressed.",
)
@_source_options
@click.pass_context
def allow(ctx: click.Context, /, finding: str, reason: str, paths: tuple[str, ...],
          **opts: Any) -> None:  # fmt: skip
    """Allow one finding: FINDING is the hash the text report shows (or a whole secret_sha256).

    Adds `{sha256, reason}` to allow-secrets in .leakscan.yaml at the root (or the --config file),
    keeping its comments. PATHS and the scan options find the finding, as in `scan`."""
    ctx.exit(run_allow(ScanRequest(paths=paths, **opts), finding, reason))


@cli.command("scan-many")
@click.argument("source", type=click.Path())
@_settings_options
@functools.partial(_report_options, many=True)
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
    help="Least blob content per shard; a repository is split only while workers would idle.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Keep bare mirrors of clone URLs here; later runs fetch what changed.",
)
@click.option(
    "--token-env",
    metavar="NAME",
    help="github:/gitlab: sources: the environment variable holding the token "
    "[default: GITHUB_TOKEN or GITLAB_TOKEN].",
)
@click.option(
    "--api-url",
    metavar="URL",
    help="GitHub Enterprise (https://HOST/api/v3) or self-managed GitLab (https://HOST).",
)
@click.option("--include-forks", is_flag=True, help="github:/gitlab: sources: scan forks too.")
@click.option(
    "--include-archived",
    is_flag=True,
    help="github:/gitlab: sources: scan archived repositories too.",
)
@click.option(
    "--exclude",
    metavar="REGEX",
    help="github:/gitlab: sources: leave out repositories whose full name matches.",
)
@click.option(
    "--rate-limit-wait",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="The longest to wait for an API rate limit to reset.",
)
@click.pass_context
def scan_many(
    ctx: click.Context,
    /,
    source: str,
    executor: str,
    scheduler: str | None,
    state_path: str | None,
    shard_size: str,
    cache_dir: str | None,
    token_env: str | None,
    api_url: str | None,
    include_forks: bool,
    include_archived: bool,
    exclude: str | None,
    rate_limit_wait: float,
    **opts: Any,
) -> None:
    """Scan the history of every repository SOURCE names, and merge the findings into one report.

    SOURCE is a file listing repository paths or clone URLs (one a line, `#` comments), a
    directory whose sub-directories are repositories, or github:ORG, github:USER, gitlab:GROUP
    (listed through the platform's API; the token comes from the environment, never an option)."""
    from leakscan.commands.many import Fleet, run_scan_many  # multiprocessing, Dask: this command

    request = ScanRequest(**opts)
    fleet = Fleet(cache_dir, token_env, api_url, include_forks, include_archived, exclude,
                  rate_limit_wait)  # fmt: skip
    ctx.exit(run_scan_many(source, request, executor_name=executor, scheduler=scheduler,
                           state_path=state_path, shard_size=shard_size, fleet=fleet))  # fmt: skip


@cli.group()
def rules() -> None:
    """List the rules, or check a rule file."""


@rules.command("list")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
              help="Also list the rules of this file; repeatable.")  # fmt: skip
@click.pass_context
def rules_list(ctx: click.Context, rule_files: tuple[str, ...]) -> None:
    """Every rule: id, key type, mode, severity, title."""
    ctx.exit(list_rules(rule_files))


@rules.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def rules_check(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Validate rule FILES: YAML, fields, regexes, and each rule's examples."""
    ctx.exit(check_rules(files))


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
@_trust_option
@_report_options
@_baseline_options
@_redact_option
@click.pass_context
def ci_github(ctx: click.Context, /, path: str, mode: str, base: str | None, head: str | None,
              sarif_file: str, **opts: Any) -> None:  # fmt: skip
    """GitHub Actions: scan what the event changed; write SARIF, annotations, summary, outputs."""
    from leakscan.commands.ci import run_ci_github  # sarif-om (40-90 ms): the CI commands only

    ctx.exit(run_ci_github(ScanRequest(**opts), path=path, mode=mode, base=base, head=head,
                           sarif_file=sarif_file))  # fmt: skip


@cli.group()
def hook() -> None:
    """Entry points for git hooks (the pre-commit hook `leakscan-push` runs `hook pre-push`)."""


@hook.command("pre-push")
@_settings_options
@_report_options
@_baseline_options
@_redact_option
@click.pass_context
def hook_pre_push(ctx: click.Context, /, **opts: Any) -> None:
    """Scan the commits being pushed: $PRE_COMMIT_FROM_REF..$PRE_COMMIT_TO_REF.

    Without them (pre-commit sets neither when a push starts at a root commit), scan the commits of
    $PRE_COMMIT_LOCAL_BRANCH (default HEAD) that no remote-tracking branch has."""
    from leakscan.commands.ci import run_pre_push  # sarif-om (40-90 ms): the CI commands only

    ctx.exit(run_pre_push(ScanRequest(**opts)))


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the SHELL completion script, e.g. `eval "$(leakscan completion bash)"`."""
    echo(completion_script(cli, shell), nl=False)


def main() -> None:
    cli(prog_name="leakscan")
