"""The `scan-many` command: the histories of many repositories, merged into one report."""

from __future__ import annotations

import os
import re
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from leakscan import __version__
from leakscan.atomic import write_atomically
from leakscan.cli.console import echo
from leakscan.commands.scan import finish
from leakscan.errors import UsageError
from leakscan.many import nightly, platform, run
from leakscan.many.api import Api
from leakscan.many.clone import Access
from leakscan.many.repolist import RepoSpec, read_source
from leakscan.many.state import State, load_state, rules_digest, save_state, updated
from leakscan.many.task import RepoOutcome, RepoTask, run_repo_task
from leakscan.model import ScanResult, Skipped
from leakscan.report import many as many_report
from leakscan.report.options import RenderOptions
from leakscan.request import ScanRequest
from leakscan.settings import Settings, load_config_for, make_settings, resolve_fail_on
from leakscan.settings.config import Config
from leakscan.units import parse_size
from leakscan.workers import Executor, available_cpus, each_task


class Fleet(NamedTuple):
    """Where the repositories come from besides a list: a platform's API, and the clone cache."""

    cache_dir: str | None = None
    token_env: str | None = None  # the variable's name; the token itself is never an option
    api_url: str | None = None
    include_forks: bool = False
    include_archived: bool = False
    exclude: str | None = None  # a regex searched in each listed repository's full name
    rate_limit_wait: float = 600.0


def run_scan_many(
    source: str,
    request: ScanRequest,
    *,
    executor_name: str,
    scheduler: str | None,
    state_path: str | None,
    shard_size: str,
    fleet: Fleet | None = None,
) -> int:
    """Scan every repository SOURCE names; write the merged report and, with --state, the state."""
    _check_options(request, executor_name, scheduler)
    specs, unlisted, access, root = _repositories(source, fleet or Fleet())
    config = load_config_for(request, root)
    settings = make_settings(config, request)
    state = load_state(Path(state_path)) if state_path else State()
    plan = run.Plan(settings, state, rules_digest(settings.rules),
                    parse_size(shard_size, "--shard-size"), request.show_secrets,
                    parse_size(request.max_file_size), config.exclude_paths, access)  # fmt: skip
    executor, workers = _executor(executor_name, scheduler, request.jobs)
    try:
        done = run.scan_many(specs, plan, executor, target=source, workers=workers,
                             on_progress=_progress(request))  # fmt: skip
    finally:
        executor.close()
    failed = (*unlisted, *done.failed)
    result = done.result._replace(summary=done.result.summary._replace(
        skipped=(*unlisted, *done.result.summary.skipped)))  # fmt: skip
    carried = None
    if state_path is not None:
        scanned = {s.name for s in specs} - {k.path for k in done.failed}
        names = (scanned, {k.path for k in failed})
        carried = nightly.carry(settings, state.open, result.findings, names, done.at_head)
        result = result._replace(findings=carried.findings,
                                 summary=result.summary._replace(fixed=carried.fixed))  # fmt: skip
    if request.fmt == "sarif" and request.output:
        code = finish(result, settings, config, request, write=False)
        _write_sarif_per_repository(result, done, specs, settings, config, request)
    else:
        code = finish(result, settings, config, request)
    for line in many_report.failed_lines(failed, len(specs) + len(unlisted)) if failed else ():
        echo(line, err=True)
    if carried is not None and state_path is not None:
        for line in () if request.quiet else many_report.fixed_lines(carried.fixed):
            echo(line, err=True)
        save_state(
            Path(state_path), updated(state, plan.rules_digest, done.tips, carried.still_open)
        )
    return code


def _repositories(
    source: str, fleet: Fleet
) -> tuple[tuple[RepoSpec, ...], tuple[Skipped, ...], Access, Path]:
    """The repositories, those listed but unusable, how to get them, and where the config is."""
    target = platform.parse_target(source)
    if target is None:
        if (
            fleet.token_env
            or fleet.api_url
            or fleet.include_forks
            or fleet.include_archived
            or fleet.exclude
        ):
            raise UsageError("--token-env, --api-url, --include-forks, --include-archived and "
                             "--exclude apply to github:OWNER and gitlab:GROUP sources.")  # fmt: skip
        root = Path(source) if Path(source).is_dir() else Path(source).parent
        return read_source(Path(source)), (), Access(_absolute(fleet.cache_dir)), root
    env_name = fleet.token_env or platform.TOKEN_ENV[target.platform]
    token = os.environ.get(env_name, "")
    if fleet.token_env and not token:
        raise UsageError(f"--token-env {env_name}: that environment variable is not set or empty.")
    base = platform.api_base(target, fleet.api_url)
    api = Api(base, platform.api_headers(target.platform, token), fleet.rate_limit_wait)
    specs, unlisted = platform.list_repositories(target, api, _listing(fleet), env_name)
    if not specs and not unlisted:
        raise UsageError(f"{source}: the API lists no repository to scan (forks and archived "
                         "ones are left out unless --include-forks / --include-archived).")  # fmt: skip
    host = urllib.parse.urlsplit(base).hostname or ""
    hosts = (host, host.removeprefix("api.")) if host.startswith("api.") else (host,)
    access = Access(_absolute(fleet.cache_dir), env_name if token else None,
                    platform.GIT_USER[target.platform], hosts)  # fmt: skip
    return specs, unlisted, access, Path.cwd()


def _absolute(path: str | None) -> str | None:
    """Workers may run elsewhere (another directory, a Dask worker): the cache by absolute path."""
    return None if path is None else os.path.abspath(os.path.expanduser(path))


def _listing(fleet: Fleet) -> platform.Listing:
    try:
        exclude = re.compile(fleet.exclude) if fleet.exclude is not None else None
    except re.error as exc:
        raise UsageError(f"--exclude: not a valid regular expression ({exc}).") from None
    return platform.Listing(fleet.include_forks, fleet.include_archived, exclude)


def _write_sarif_per_repository(
    result: ScanResult, done: run.ManyResult, specs: tuple[RepoSpec, ...], settings: Settings,
    config: Config, request: ScanRequest,
) -> None:  # fmt: skip
    """`-o DIR --format sarif`: DIR/<repository>.sarif for each repository scanned completely
    (none for a failed one: an empty upload would close its open alerts)."""
    from leakscan.report import sarif_many  # SARIF only

    directory = Path(request.output or ".")
    failed = {k.path for k in done.failed}
    repos = [sarif_many.Repository(s.name, s.name if s.is_url else Path(s.location).as_uri(),
                                   done.tips.get(s.key, {}).get("HEAD"))
             for s in specs if s.name not in failed]  # fmt: skip
    options = RenderOptions(False, False, resolve_fail_on(request, config), __version__)
    logs = sarif_many.per_repository(result, settings.rules, options, repos)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot create the SARIF directory "
                         f"({exc.strerror or exc}); -o names a directory with --format sarif.") from None  # fmt: skip
    for name, text in logs.items():
        write_atomically(directory / name, text)
    echo(f"leakscan: wrote {len(logs)} SARIF file(s), one per repository, to {directory}"
         + (f"; none for the {len(failed)} that could not be scanned" if failed else ""),
         err=True)  # fmt: skip


def _check_options(request: ScanRequest, executor: str, scheduler: str | None) -> None:
    if request.include_ignored:
        raise UsageError(
            "--include-ignored applies to working-tree scans; scan-many scans histories."
        )
    if executor == "dask" and not scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://scheduler:8786).")
    if executor != "dask" and scheduler:
        raise UsageError("--scheduler only applies to --executor dask.")
    if executor == "dask" and request.jobs:
        raise UsageError(
            "--jobs sizes the local pool; a Dask cluster has as many workers as it has."
        )


def _executor(
    name: str, scheduler: str | None, jobs: int | None
) -> tuple[Executor[RepoTask, RepoOutcome], int]:
    """The executor, and how many tasks it runs at a time."""
    job = each_task(run_repo_task)
    if name == "dask" and scheduler:
        from leakscan.workers.cluster import DaskExecutor  # distributed: an optional dependency

        cluster = DaskExecutor(job, scheduler)
        return cluster, cluster.slots()
    from leakscan.workers.pool import LocalExecutor

    workers = jobs or available_cpus()
    return LocalExecutor(job, workers), workers


def _progress(request: ScanRequest) -> Callable[[run.Progress], None] | None:
    """A progress line on a terminal; with --verbose elsewhere, one line per finished repository."""
    tty = sys.stderr.isatty() and not request.no_progress and not request.quiet
    if not tty and not request.verbose:
        return None

    def show(p: run.Progress) -> None:
        if tty:
            line = many_report.progress_line(p.done, p.total, p.bytes, p.seconds)
            end = "\n" if p.done == p.total and p.finished else ""
            echo(f"\r{line}\033[K{end}", err=True, nl=False)
        elif p.finished:
            line = many_report.finished_line(
                p.done, p.total, p.finished, p.finished_blobs, p.finished_bytes
            )
            echo(line, err=True)

    return show
