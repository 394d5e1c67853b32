"""The `scan-many` command: the histories of many repositories, merged into one report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from leakscan import __version__
from leakscan.atomic import write_atomically
from leakscan.cli.console import echo
from leakscan.commands.scan import finish
from leakscan.errors import UsageError
from leakscan.many import run
from leakscan.many.repolist import RepoSpec, read_source
from leakscan.many.state import State, load_state, rules_digest, save_state, updated
from leakscan.many.task import RepoOutcome, RepoTask, run_repo_task
from leakscan.report import many as many_report
from leakscan.report.options import RenderOptions
from leakscan.request import ScanRequest
from leakscan.settings import Settings, load_config_for, make_settings, resolve_fail_on
from leakscan.settings.config import Config
from leakscan.units import parse_size
from leakscan.workers import Executor, available_cpus, each_task


def run_scan_many(
    source: str,
    request: ScanRequest,
    *,
    executor_name: str,
    scheduler: str | None,
    state_path: str | None,
    shard_size: str,
) -> int:
    """Scan every repository SOURCE names; write the merged report and, with --state, the state."""
    _check_options(request, executor_name, scheduler)
    specs = read_source(Path(source))
    root = Path(source) if Path(source).is_dir() else Path(source).parent
    config = load_config_for(request, root)
    settings = make_settings(config, request)
    state = load_state(Path(state_path)) if state_path else State()
    plan = run.Plan(
        settings,
        state,
        rules_digest(settings.rules),
        parse_size(shard_size, "--shard-size"),
        request.show_secrets,
        parse_size(request.max_file_size),
        config.exclude_paths,
    )
    executor = _executor(executor_name, scheduler, request.jobs)
    try:
        done = run.scan_many(specs, plan, executor, target=source, on_progress=_progress(request))
    finally:
        executor.close()
    if request.fmt == "sarif" and request.output:
        code = finish(done.result, settings, config, request, write=False)
        _write_sarif_per_repository(done, specs, settings, config, request)
    else:
        code = finish(done.result, settings, config, request)
    if done.failed:
        for line in many_report.failed_lines(done.failed, len(specs)):
            echo(line, err=True)
    if state_path is not None:
        save_state(Path(state_path), updated(state, plan.rules_digest, done.tips))
    return code


def _write_sarif_per_repository(
    done: run.ManyResult, specs: tuple[RepoSpec, ...], settings: Settings, config: Config,
    request: ScanRequest,
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
    logs = sarif_many.per_repository(done.result, settings.rules, options, repos)
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
) -> Executor[RepoTask, RepoOutcome]:
    job = each_task(run_repo_task)
    if name == "dask" and scheduler:
        from leakscan.workers.cluster import DaskExecutor  # distributed: an optional dependency

        return DaskExecutor(job, scheduler)
    from leakscan.workers.pool import LocalExecutor

    return LocalExecutor(job, jobs or available_cpus())


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
