"""The `scan-many` command: the histories of many repositories, merged into one report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from leakscan.cli.console import echo
from leakscan.commands.scan import finish
from leakscan.errors import UsageError
from leakscan.many import run
from leakscan.many.repolist import read_source
from leakscan.many.state import State, load_state, rules_digest, save_state, updated
from leakscan.many.task import RepoOutcome, RepoTask, run_repo_task
from leakscan.report import many as many_report
from leakscan.request import ScanRequest
from leakscan.settings import load_config_for, make_settings
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
    executor, workers = _executor(executor_name, scheduler, request.jobs)
    try:
        done = run.scan_many(specs, plan, executor, target=source, workers=workers,
                             on_progress=_progress(request))  # fmt: skip
    finally:
        executor.close()
    code = finish(done.result, settings, config, request)
    if done.failed:
        for line in many_report.failed_lines(done.failed, len(specs)):
            echo(line, err=True)
    if state_path is not None:
        save_state(Path(state_path), updated(state, plan.rules_digest, done.tips))
    return code


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
