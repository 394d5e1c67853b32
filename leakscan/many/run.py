"""`scan-many`: one task per repository on an executor, a large repository split into shards only
where that pays, a dead worker's task retried once, a failed repository reported while the rest go on,
and the findings merged as they come into one report where each secret appears once with every
repository, commit and path.

Splitting pays only when workers would otherwise sit idle: a repository is split when there are more
idle workers than repositories left to start (one monorepo on a cluster, or the last repositories of
a run), never on a fleet that keeps every worker busy anyway, where a whole repository per task is
what a loop over them costs (docs/scan-many.md).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from leakscan.findings import Merger
from leakscan.many.clone import Access
from leakscan.many.nightly import recheck_places
from leakscan.many.repolist import RepoSpec
from leakscan.many.state import State, Tips
from leakscan.many.task import Pairs, RepoOutcome, RepoTask, Shard
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


class _Tally(NamedTuple):
    """One repository while its tasks are out: kept only until its last one is back."""

    order: int  # in the list of repositories: failures are reported in that order
    parts: int = 1  # outcomes to wait for (its shards, once it is split)
    back: int = 0
    blobs: int = 0
    bytes: int = 0
    error: str | None = None
    tips: Pairs = ()
    incremental: bool = False
    copy: str = ""  # how its first task got the repository (shards reuse that copy)
    at_head: Pairs = ()  # the open findings' places still in HEAD's tree (the first task's check)


def scan_many(
    specs: Sequence[RepoSpec],
    plan: Plan,
    executor: Executor[RepoTask, RepoOutcome],
    *,
    target: str,
    workers: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
) -> ManyResult:
    """Scan every repository of `specs` on `executor`, which runs `workers` tasks at a time."""
    run = _Run(specs, plan, executor, max(1, workers))
    run.dispatch()
    while run.used:
        task, result = executor.next_done()
        outcome = _outcome(task, result)
        if outcome is None:  # a worker died: once more, on another worker
            executor.submit(task._replace(attempt=task.attempt + 1))
            continue
        run.used -= task.split
        run.take(task, outcome, on_progress)
        run.dispatch()
    return run.assemble(target)


class _Run:
    """The coordinator's state: repositories not started, shards waiting for a worker, the tallies
    of repositories under way, and what finished ones left behind (tips, failures, the merge)."""

    def __init__(
        self,
        specs: Sequence[RepoSpec],
        plan: Plan,
        executor: Executor[RepoTask, RepoOutcome],
        workers: int,
    ) -> None:
        self.plan, self.executor, self.workers, self.total = plan, executor, workers, len(specs)
        self.queue = deque(enumerate(specs))
        self.shards: deque[RepoTask] = deque()
        # workers the tasks out occupy (a task allowed to split holds its shards' share)
        self.used = 0
        self.tallies: dict[str, _Tally] = {}
        self.merger = Merger(plan.settings.rules)
        self.tips: dict[str, Tips] = {}
        self.at_head: dict[str, frozenset[tuple[str, str]]] = {}
        self.copies: dict[str, int] = {}  # how many repositories were got each way (clone.Copy)
        self.failed: list[tuple[int, Skipped]] = []
        self.skipped: list[Skipped] = []
        self.done = self.blobs = self.bytes = self.incremental = 0
        self.started = time.monotonic()

    def dispatch(self) -> None:
        """Shards of a split repository first; then repositories, each split in the share of the idle
        workers it may use when they outnumber the repositories left. Once no split is possible
        (more repositories left than workers), repositories are queued ahead: no worker waits."""
        while self.shards and self.used < self.workers:
            self._submit(self.shards.popleft(), 1)
        while self.queue and not self.shards:
            idle, left = self.workers - self.used, len(self.queue)
            if idle <= 0 and left <= self.workers:
                return
            index, spec = self.queue.popleft()
            split = -(-idle // left) if idle > left else 1
            since = self.plan.state.since(spec.key, self.plan.rules_digest)
            self.tallies[spec.key] = _Tally(index)
            p = self.plan
            self._submit(RepoTask(spec, p.settings, _pairs(since), shard_bytes=p.shard_bytes,
                                  show_secrets=p.show_secrets, max_size=p.max_size,
                                  excludes=p.excludes, split=split, access=p.access,
                                  recheck=recheck_places(p.state.open, spec.name)), split)  # fmt: skip

    def _submit(self, task: RepoTask, weight: int) -> None:
        self.executor.submit(task)
        self.used += weight

    def take(
        self, task: RepoTask, outcome: RepoOutcome, on_progress: Callable[[Progress], None] | None
    ) -> None:
        key = task.spec.key
        tally = self.tallies[key]
        tally = tally._replace(copy=tally.copy or outcome.copy,
                               at_head=tally.at_head + outcome.at_head)  # fmt: skip
        if outcome.ranges:  # split: its shards are scanned up to the tips the listing saw
            self.tallies[key] = tally._replace(parts=len(outcome.ranges))
            n = len(outcome.ranges)
            self.shards.extend(task._replace(until=outcome.tips, shard=Shard(i, n), blobs=blobs,
                                             split=1, attempt=0, recheck=())
                               for i, blobs in enumerate(outcome.ranges))  # fmt: skip
            return
        self.merger.add(outcome.findings)
        self.skipped += (k._replace(path=f"{task.spec.name}: {k.path}") for k in outcome.skipped)
        self.bytes += outcome.bytes
        self.blobs += outcome.blobs
        tally = tally._replace(back=tally.back + 1, blobs=tally.blobs + outcome.blobs,
                               bytes=tally.bytes + outcome.bytes, error=tally.error or outcome.error,
                               tips=outcome.tips or tally.tips,
                               incremental=tally.incremental or outcome.incremental)  # fmt: skip
        progress = Progress(self.done, self.total, self.bytes, time.monotonic() - self.started)
        if tally.back < tally.parts:
            self.tallies[key] = tally
        else:
            del self.tallies[key]
            self._finish(task.spec, tally)
            progress = progress._replace(done=self.done, finished=task.spec.name,
                                         finished_blobs=tally.blobs, finished_bytes=tally.bytes)  # fmt: skip
        if on_progress is not None:
            on_progress(progress)

    def _finish(self, spec: RepoSpec, tally: _Tally) -> None:
        self.done += 1
        self.copies[tally.copy] = self.copies.get(tally.copy, 0) + 1
        if tally.error:
            failure = Skipped(spec.name, tally.error.rstrip("."), incomplete=True)
            self.failed.append((tally.order, failure))
        else:
            self.tips[spec.key] = dict(tally.tips)
            self.at_head[spec.name] = frozenset(tally.at_head)
            self.incremental += tally.incremental

    def assemble(self, target: str) -> ManyResult:
        failed = tuple(k for _, k in sorted(self.failed, key=lambda item: item[0]))
        scanned = self.total - len(failed)
        notes = ((f"{self.total} repositories: {scanned - self.incremental} scanned in full, "
                  f"{self.incremental} since the last run, {len(failed)} could not be scanned"),
                 *_cache_note(self.copies))  # fmt: skip
        summary = ScanSummary(
            target=target,
            mode="range" if self.incremental else "history",
            files=0,
            blobs=self.blobs,
            bytes=self.bytes,
            skipped=(*failed, *sorted(self.skipped, key=lambda k: k.path)),
            notes=notes,
            seconds=time.monotonic() - self.started,
        )
        return ManyResult(ScanResult(summary, self.merger.findings()), failed, self.tips,
                          MappingProxyType(self.at_head))  # fmt: skip


def _cache_note(copies: Mapping[str, int]) -> tuple[str, ...]:
    """`clone URLs: 3 cloned, 27 fetched` (a repository's shards reuse its copy: counted once)."""
    cloned, fetched = copies.get("cloned", 0), copies.get("fetched", 0)
    return (f"clone URLs: {cloned} cloned, {fetched} fetched",) if cloned or fetched else ()


def _outcome(task: RepoTask, result: object) -> RepoOutcome | None:
    """The task's outcome; None when it should be retried; a failure after its retry."""
    if isinstance(result, RepoOutcome):
        return result
    reason = result.reason if isinstance(result, Lost) else "the executor returned nothing usable"
    if task.attempt == 0:
        return None
    return RepoOutcome(task.spec, task.shard, error=f"{reason}, on the first try and on the retry")


def _pairs(tips: Tips | None) -> tuple[tuple[str, str], ...] | None:
    return None if tips is None else tuple(sorted(tips.items()))
