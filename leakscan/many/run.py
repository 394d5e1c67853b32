"""`scan-many`: one task per repository (or per blob-id shard of a large one) on an executor, a dead
worker's task retried once, a failed repository reported while the rest go on, results merged into
one report where each secret appears once with every repository, commit and path."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from leakscan.findings import merge_findings
from leakscan.many.clone import Access
from leakscan.many.nightly import recheck_places
from leakscan.many.repolist import RepoSpec
from leakscan.many.state import State, Tips
from leakscan.many.task import RepoOutcome, RepoTask, Shard
from leakscan.model import ScanResult, ScanSummary, Skipped
from leakscan.settings import Settings
from leakscan.workers import Executor, Lost


class Progress(NamedTuple):
    done: int  # repositories finished (every shard), scanned or failed
    total: int
    bytes: int  # blob bytes read so far
    seconds: float
    finished: str = ""  # the repository whose last task just came back, if one did
    finished_blobs: int = 0
    finished_bytes: int = 0


class Plan(NamedTuple):
    """How to run: what the tasks need besides their repository."""

    settings: Settings
    state: State
    rules_digest: str
    shard_bytes: int
    show_secrets: bool = False
    max_size: int = 50 << 20  # --max-file-size: larger blobs are counted, not read
    excludes: tuple[str, ...] = ()  # exclude-paths of the config
    access: Access = Access()  # clone URLs: --cache-dir and the token's variable


class ManyResult(NamedTuple):
    result: ScanResult
    failed: tuple[Skipped, ...]  # repositories that could not be scanned: (name, sentence)
    tips: Mapping[str, Tips]  # RepoSpec.key -> ref tips, for every repository scanned completely
    at_head: Mapping[str, frozenset[tuple[str, str]]] = MappingProxyType({})  # name -> places


def scan_many(
    specs: Sequence[RepoSpec],
    plan: Plan,
    executor: Executor[RepoTask, RepoOutcome],
    *,
    target: str,
    on_progress: Callable[[Progress], None] | None = None,
) -> ManyResult:
    started = time.monotonic()
    expected = {s.key: 1 for s in specs}
    parts: dict[str, list[RepoOutcome]] = {s.key: [] for s in specs}
    for spec in specs:
        since = plan.state.since(spec.key, plan.rules_digest)
        task = RepoTask(spec, plan.settings, _pairs(since), None, Shard(), plan.shard_bytes,
                        plan.show_secrets, plan.max_size, plan.excludes, access=plan.access,
                        recheck=recheck_places(plan.state.open, spec.name))  # fmt: skip
        executor.submit(task)
    pending, done, nbytes = len(specs), 0, 0
    while pending:
        task, result = executor.next_done()
        pending -= 1
        outcome = _outcome(task, result)
        if outcome is None:  # a worker died: once more, on another worker
            executor.submit(task._replace(attempt=task.attempt + 1))
            pending += 1
            continue
        if outcome.shards:  # the shards reuse the copy this task made: count it as this one's
            parts[task.spec.key].append(outcome._replace(findings=(), blobs=0, bytes=0, skipped=()))
            expected[task.spec.key] = outcome.shards + 1
            for i in range(outcome.shards):
                executor.submit(task._replace(until=outcome.tips, shard=Shard(i, outcome.shards)))
            pending += outcome.shards
            continue
        mine = parts[task.spec.key]
        mine.append(outcome)
        nbytes += outcome.bytes
        progress = Progress(done, len(specs), nbytes, time.monotonic() - started)
        if len(mine) == expected[task.spec.key]:
            done += 1
            progress = progress._replace(done=done, finished=task.spec.name,
                               finished_blobs=sum(o.blobs for o in mine),
                               finished_bytes=sum(o.bytes for o in mine))  # fmt: skip
        if on_progress is not None:
            on_progress(progress)
    return _assemble(specs, plan, parts, target, time.monotonic() - started)


def _outcome(task: RepoTask, result: object) -> RepoOutcome | None:
    """The task's outcome; None when it should be retried; a failure after its retry."""
    if isinstance(result, RepoOutcome):
        return result
    reason = result.reason if isinstance(result, Lost) else "the executor returned nothing usable"
    if task.attempt == 0:
        return None
    return RepoOutcome(task.spec, task.shard, error=f"{reason}, on the first try and on the retry")


def _assemble(
    specs: Sequence[RepoSpec],
    plan: Plan,
    parts: Mapping[str, list[RepoOutcome]],
    target: str,
    seconds: float,
) -> ManyResult:
    outcomes = [o for s in specs for o in parts[s.key]]
    failed = tuple(
        Skipped(s.name, _first_error(parts[s.key]), incomplete=True)
        for s in specs
        if any(o.error for o in parts[s.key])
    )
    failed_names = {k.path for k in failed}

    skipped = [k._replace(path=f"{o.spec.name}: {k.path}") for o in outcomes for k in o.skipped]
    scanned = [s for s in specs if s.name not in failed_names]
    tips = {s.key: dict(parts[s.key][0].tips) for s in scanned}
    incremental = sum(1 for s in scanned if any(o.incremental for o in parts[s.key]))
    notes = ((f"{len(specs)} repositories: {len(scanned) - incremental} scanned in full, "
              f"{incremental} since the last run, {len(failed)} could not be scanned"),
             *_cache_note(outcomes))  # fmt: skip
    summary = ScanSummary(
        target=target,
        mode="range" if incremental else "history",
        files=0,
        blobs=sum(o.blobs for o in outcomes),
        bytes=sum(o.bytes for o in outcomes),
        skipped=(*failed, *sorted(skipped, key=lambda k: k.path)),
        notes=notes,
        seconds=seconds,
    )
    findings = merge_findings(plan.settings.rules, (o.findings for o in outcomes))
    at_head = {s.name: frozenset(p for o in parts[s.key] for p in o.at_head) for s in scanned}
    return ManyResult(ScanResult(summary, findings), failed, tips, at_head)


def _cache_note(outcomes: Sequence[RepoOutcome]) -> tuple[str, ...]:
    """`clone URLs: 3 cloned, 27 fetched into the cache` (shards that reused a copy not counted)."""
    counts = {how: sum(1 for o in outcomes if o.copy == how) for how in ("cloned", "fetched")}
    if not any(counts.values()):
        return ()
    return (f"clone URLs: {counts['cloned']} cloned, {counts['fetched']} fetched",)


def _first_error(outcomes: Sequence[RepoOutcome]) -> str:
    """The sentence without its full stop: reports add their own punctuation."""
    return next(o.error for o in outcomes if o.error).rstrip(".")


def _pairs(tips: Tips | None) -> tuple[tuple[str, str], ...] | None:
    return None if tips is None else tuple(sorted(tips.items()))
