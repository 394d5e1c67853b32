"""One task of `scan-many`: open (or clone) one repository, scan its history — all of it, or what is
new since the tips the last run saw, or one blob-id shard of it — and return compact findings.

The task runs in a worker process, here or on a Dask cluster, so what crosses the wire is small and
safe: findings carry `secret_sha256`, a preview and locations, never the raw key unless the user asked
for it with `--show-secrets`. The task never raises: a repository that cannot be scanned comes back
with `error` set, so one bad repository never stops the others.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple

from leakscan.errors import LeakscanError
from leakscan.many.clone import Access, local_copy
from leakscan.many.repolist import RepoSpec
from leakscan.model import Finding, Skipped
from leakscan.scan import history as gitscan
from leakscan.settings import Settings
from leakscan.sources import history

Pairs = tuple[tuple[str, str], ...]  # (ref name, commit sha), sorted
DEFAULT_SHARD_BYTES = 256 << 20
MAX_SHARDS = 64


class Shard(NamedTuple):
    """Blobs whose id, read as a number, is `number` modulo `of`: a stable, even split."""

    number: int = 0
    of: int = 1

    def holds(self, oid: str) -> bool:
        return self.of == 1 or int(oid[:8], 16) % self.of == self.number


class RepoTask(NamedTuple):
    spec: RepoSpec
    settings: Settings
    since: Pairs | None = None  # the tips the last run scanned; None: the whole history
    until: Pairs | None = None  # scan up to these tips (shards of one repository agree on them)
    shard: Shard = Shard()
    shard_bytes: int = DEFAULT_SHARD_BYTES  # a whole repository larger than this is split
    show_secrets: bool = False
    max_size: int = 50 << 20
    excludes: tuple[str, ...] = ()
    attempt: int = 0
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
    shards: int = 0  # > 0: nothing was scanned; run the repository again as this many shards
    copy: str = ""  # how the repository was got: local, cloned, fetched, cached (clone.Copy)
    at_head: Pairs = ()  # the `recheck` pairs whose blob is still in HEAD's tree


def run_repo_task(task: RepoTask) -> RepoOutcome:
    """Scan one repository (or shard); never raises."""
    try:
        with tempfile.TemporaryDirectory(prefix="leakscan-") as scratch:
            copy = local_copy(task.spec, Path(scratch), task.access, refresh=task.until is None)
            outcome = _scan(task, copy.path)
            return outcome._replace(copy=copy.how)
    except LeakscanError as exc:
        return RepoOutcome(task.spec, task.shard, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: named, never its message (may quote content)
        return RepoOutcome(task.spec, task.shard, error=f"internal error ({type(exc).__name__})")


def _scan(task: RepoTask, path: Path) -> RepoOutcome:
    repo = history.open_repo(path)
    tips = task.until if task.until is not None else history.ref_tips(repo)
    old = [c for _, c in task.since or () if history.resolve_commit(repo, c) is not None]
    if not tips:
        return RepoOutcome(task.spec, task.shard, tips=tips, incremental=task.since is not None)
    revs = None  # the whole history
    if old or task.until is not None:
        revs = (*(c for _, c in tips), *(("--not", *old) if old else ()))
    options = gitscan.Options(jobs=1, max_size=task.max_size, excludes=task.excludes)
    blobs = gitscan.blobs_of(repo, revs)
    total = sum(b.size for b in blobs if b.size <= task.max_size)
    if task.shard.of == 1 and total > task.shard_bytes:
        shards = min(MAX_SHARDS, -(-total // task.shard_bytes))
        return RepoOutcome(task.spec, task.shard, tips=tips, shards=shards)
    at_head = still_at_head(repo, task.recheck)
    result = gitscan.scan_blob_list(
        task.settings, repo, [b for b in blobs if task.shard.holds(b.oid)], revs, options
    )
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
