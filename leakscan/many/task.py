"""One task of `scan-many`: open (or clone) one repository and scan its history — all of it, or what
is new since the tips the last run saw — or one range of a large repository's blob list, and return
compact findings.

A whole repository is scanned as `leakscan scan --history` scans it (the walk runs beside the scan):
a fleet of repositories costs what a loop over them costs. Only when the coordinator allows a split
(more idle workers than repositories left) does the task list the blobs first — once, in delta-chain
order — and, if they are worth more than one shard, hand back contiguous ranges of that list instead
of scanning: each shard then reads a run of neighbouring blobs, so a delta base is inflated in one
shard only, and no shard lists or walks the repository again.

The task runs in a worker process, here or on a Dask cluster, so what crosses the wire is small and
safe: findings carry `secret_sha256`, a preview and locations, never the raw key unless the user asked
for it with `--show-secrets`. The task never raises: a repository that cannot be scanned comes back
with `error` set, so one bad repository never stops the others.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from leakscan.errors import LeakscanError
from leakscan.many.clone import Access, local_copy
from leakscan.many.repolist import RepoSpec
from leakscan.model import Finding, ScanResult, Skipped
from leakscan.scan import history as gitscan
from leakscan.settings import Settings
from leakscan.sources import history
from leakscan.sources.git import BlobRef

Pairs = tuple[tuple[str, str], ...]  # (ref name, commit sha), sorted
Blobs = tuple[BlobRef, ...]
DEFAULT_SHARD_BYTES = 256 << 20
MAX_SHARDS = 64


class Shard(NamedTuple):
    """Range `number` of the `of` ranges a repository's delta-ordered blob list was cut into."""

    number: int = 0
    of: int = 1


class RepoTask(NamedTuple):
    spec: RepoSpec
    settings: Settings
    since: Pairs | None = None  # the tips the last run scanned; None: the whole history
    until: Pairs | None = None  # a shard: scan up to these tips (the listing task saw them)
    shard: Shard = Shard()
    shard_bytes: int = DEFAULT_SHARD_BYTES  # the least blob bytes worth a shard of their own
    show_secrets: bool = False
    max_size: int = 50 << 20
    excludes: tuple[str, ...] = ()
    attempt: int = 0
    split: int = (
        1  # > 1: list the blobs and cut them into up to this many shards if they are worth it
    )
    blobs: Blobs = ()  # a shard's range of the blob list
    access: Access = Access()  # clone URLs: the cache and the token's variable (never the token)
    recheck: Pairs = ()  # (commit, path) of open findings the last run saw: still at HEAD?


class RepoOutcome(NamedTuple):
    spec: RepoSpec
    shard: Shard
    findings: tuple[Finding, ...] = ()
    blobs: int = 0
    bytes: int = 0
    skipped: tuple[Skipped, ...] = ()
    tips: Pairs = ()
    incremental: bool = False
    error: str | None = None  # a sentence: why this repository could not be scanned
    ranges: tuple[Blobs, ...] = ()  # nothing was scanned: run each range as a shard
    copy: str = ""  # how the repository was got: local, cloned, fetched, cached (clone.Copy)
    at_head: Pairs = ()  # the `recheck` pairs whose blob is still in HEAD's tree


def run_repo_task(task: RepoTask) -> RepoOutcome:
    """Scan one repository (or shard); never raises."""
    try:
        with tempfile.TemporaryDirectory(prefix="leakscan-") as scratch:
            copy = local_copy(task.spec, Path(scratch), task.access, refresh=task.until is None)
            return _scan(task, copy.path)._replace(copy=copy.how)
    except LeakscanError as exc:
        return RepoOutcome(task.spec, task.shard, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: named, never its message (may quote content)
        return RepoOutcome(task.spec, task.shard, error=f"internal error ({type(exc).__name__})")


def _scan(task: RepoTask, path: Path) -> RepoOutcome:
    repo = history.open_repo(path)
    tips = task.until if task.until is not None else history.ref_tips(repo)
    at_head = still_at_head(repo, task.recheck)  # the listing task's only: shards get no recheck
    if not tips or tips == task.since:  # empty, or not a commit since the last run
        return RepoOutcome(task.spec, task.shard, tips=tips, incremental=task.since is not None,
                           at_head=at_head)  # fmt: skip
    old = history.present(repo, [c for _, c in task.since or ()])  # force-pushed away: dropped
    revs = None  # the whole history
    if old or task.until is not None:
        revs = (*(c for _, c in tips), *(("--not", *old) if old else ()))
    options = gitscan.Options(jobs=1, max_size=task.max_size, excludes=task.excludes)
    if task.until is not None:  # a shard: its range, attributed through the walk of the same tips
        result = gitscan.scan_blob_list(task.settings, repo, task.blobs, revs, options)
        return _outcome(task, tips, result, at_head)
    if task.split == 1 and revs is None:  # the common case: exactly `leakscan scan --history`
        result = gitscan.scan_history(task.settings, path, False, options)
        return _outcome(task, tips, result, at_head)
    blobs = gitscan.blobs_of(repo, revs)  # listed and walked once, in delta-chain order
    ranges = cut(blobs, task.split, task.shard_bytes, task.max_size)
    if len(ranges) > 1:
        return RepoOutcome(task.spec, task.shard, tips=tips, ranges=ranges, at_head=at_head)
    result = gitscan.scan_blob_list(task.settings, repo, blobs, revs, options)
    return _outcome(task, tips, result, at_head)


def cut(blobs: Sequence[BlobRef], most: int, shard_bytes: int, max_size: int) -> tuple[Blobs, ...]:
    """`blobs` (delta-chain order) as up to `most` contiguous ranges of about the same bytes, each of
    at least `shard_bytes` (one range: not worth splitting). Blobs above `max_size` are not read, so
    they weigh nothing (the shard that holds one notes it)."""
    weights = [b.size if b.size <= max_size else 0 for b in blobs]
    total = sum(weights)
    n = max(1, min(most, MAX_SHARDS, total // max(1, shard_bytes)))
    if n == 1:
        return (tuple(blobs),)
    ranges: list[Blobs] = []
    start = done = 0
    for i, weight in enumerate(weights):
        done += weight
        if len(ranges) < n - 1 and done * n >= total * (len(ranges) + 1):
            ranges.append(tuple(blobs[start : i + 1]))
            start = i + 1
    ranges.append(tuple(blobs[start:]))
    return tuple(r for r in ranges if r)


def _outcome(task: RepoTask, tips: Pairs, result: ScanResult, at_head: Pairs) -> RepoOutcome:
    findings = tuple(_compact(f, task) for f in result.findings)
    s = result.summary
    return RepoOutcome(task.spec, task.shard, findings, s.blobs, s.bytes, s.skipped, tips,
                       incremental=task.since is not None, at_head=at_head)  # fmt: skip


def _compact(f: Finding, task: RepoTask) -> Finding:
    """Each location names its repository; the raw key stays here unless --show-secrets."""
    locations = tuple(loc._replace(repository=task.spec.name) for loc in f.locations)
    return f._replace(locations=locations, secret=f.secret if task.show_secrets else "")


def still_at_head(repo: history.Repo, places: Pairs) -> Pairs:
    """Which (commit, path) of the open findings the last run remembered hold a blob that is still
    somewhere in HEAD's tree (a rename keeps it open, an edit that removes the key does not)."""
    head = history.resolve_commit(repo, "HEAD") if places else None
    if head is None:
        return ()
    in_head = history.head_tree(repo, head)[0]
    blobs = history.blobs_at(repo, places)
    return tuple(p for p, oid in zip(places, blobs, strict=True) if oid in in_head)
