"""Composition for git sources: history and range scans (blob list -> scan each once -> attribute the
few blobs that matched -> Findings). The per-blob work is scan.py's; the git I/O is sources/'s."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from leakscan.errors import SourceError, UsageError
from leakscan.findings import Occurrence, from_occurrences, merge_findings, with_exposure
from leakscan.match.needles import has_encoded_keyword
from leakscan.match.text import container_kind
from leakscan.model import Finding, HistoryStats, ScanResult, ScanSummary, Skipped
from leakscan.scan.blobs import BlobScan, Progress, scan_blobs
from leakscan.scan.content import match_blob, place
from leakscan.scan.windows import exposure_windows
from leakscan.settings import Settings
from leakscan.sources import history, promisor
from leakscan.sources.attribution import Seen, introductions
from leakscan.sources.git import BlobRef, cat_blobs
from leakscan.sources.history import Objects, Reachable, Repo
from leakscan.units import excluded, human_size

# (total blobs, total bytes) -> the callback to report progress to, or None for no progress bar
StartProgress = Callable[[int, int], Progress | None]


class Options(NamedTuple):
    jobs: int
    max_size: int
    excludes: tuple[str, ...] = ()
    start_progress: StartProgress | None = None
    fetch_missing: bool = (
        False  # a partial clone: download the objects it never had, then scan them
    )
    on_fetched: Callable[[int, int], None] | None = None  # (objects, bytes) once they are fetched
    fetch_progress: Callable[[int, int], None] | None = None  # (received, to receive) meanwhile
    recurse_submodules: bool = False  # --history: also the history of each submodule present here


class Plan(NamedTuple):
    """What a git scan reads: rev-list arguments for the walk and the notes that describe them."""

    revs: tuple[str, ...]
    head: str | None  # the commit `present_at_head` is about
    notes: tuple[str, ...]


def scan_history(settings: Settings, path: Path, unreachable: bool, options: Options) -> ScanResult:
    """Every blob reachable from every ref (or every blob in the object database), each scanned once.

    Every blob in the object database is listed and scanned while `git rev-list` works out, on the
    other core, which of them a ref reaches; hits of unreachable blobs are dropped afterwards (a clone
    has few or none, and the walk no longer delays the scan)."""
    return _scan_history(settings, history.open_repo(path), unreachable, options, seen=set())


def _scan_history(
    settings: Settings, repo: Repo, unreachable: bool, options: Options, seen: set[str]
) -> ScanResult:
    """`scan_history`; `seen`: the git directories --recurse-submodules has entered (each once)."""
    started = time.monotonic()
    notes = _repo_notes(repo, _download(repo, ("--all",), options))
    if not history.has_refs(repo) and not unreachable:
        notes.append("empty repository: there are no commits to scan")
        return _empty(repo, "history", notes, started)
    refs = sum(name != "HEAD" for name, _ in history.ref_tips(repo))
    walk = None if unreachable else history.start_walk(repo, ["--all"])
    try:
        listed = history.all_objects(repo, with_commits=unreachable)
        wanted, big = _by_size(listed.blobs, options.max_size)
        laps = [started, time.monotonic()]
        scanned = _scan_all(settings, repo, wanted, options)
        laps.append(time.monotonic())
        reachable = history.finish_walk(repo, walk) if walk is not None else None
        laps.append(time.monotonic())
    finally:
        if walk is not None:
            history.stop_walk(walk)
    dangling: list[str] = []
    dropped: list[BlobRef] = []
    if reachable is not None:
        dropped = [b for b in wanted if b.oid not in reachable]
        scanned = _only(scanned, reachable, dropped)
        big = [b for b in big if b.oid in reachable]
    elif scanned.hits:
        dangling = history.unreachable_commits(repo, listed.commits)
    if unreachable:
        notes.append("included every object in the object database, also those no ref reaches")
    notes += _size_note(big, options)
    plan = Plan(("--all",), history.resolve_commit(repo, "HEAD"), tuple(notes))
    stats = _stats(refs, listed, dropped, scanned, laps)
    recorded = _recorded(repo, plan.revs)  # one walk, for the skips and for the recursion
    result = _result(settings, repo, "history", scanned, plan, options, started, dangling, stats,
                     recorded)  # fmt: skip
    if options.recurse_submodules:
        seen.add(os.path.realpath(repo.git_dir))
        result = _with_submodules(settings, repo, result, recorded, options, seen)
    return result


def _with_submodules(
    settings: Settings,
    repo: Repo,
    result: ScanResult,
    recorded: dict[str, list[str]],
    options: Options,
    seen: set[str],
) -> ScanResult:
    """`result` with the history of each submodule whose repository is here scanned too (and theirs,
    each repository once), its locations under the submodule's path. A submodule that is not here,
    or lacks recorded commits, stays listed as a skip."""
    summary = result.summary
    parts: list[Sequence[Finding]] = [result.findings]
    skipped: list[Skipped] = []
    notes = list(summary.notes)
    blobs, nbytes = summary.blobs, summary.bytes
    for skip in summary.skipped:
        where = history.submodule_dir(repo, skip.path) if skip.path in recorded else None
        sub = history.open_repo(Path(where)) if where is not None else None
        if sub is None or os.path.realpath(sub.git_dir) in seen:
            skipped.append(skip)
            continue
        inner = _scan_history(settings, sub, False, options, seen)
        parts.append(_under(skip.path, inner.findings))
        skipped += [k._replace(path=f"{skip.path}/{k.path}") for k in inner.summary.skipped]
        notes += [f"submodule {skip.path}: {n}" for n in inner.summary.notes]
        blobs, nbytes = blobs + inner.summary.blobs, nbytes + inner.summary.bytes
        present = set(history.present(sub, recorded[skip.path]))
        lacking = [c for c in recorded[skip.path] if c not in present]
        if lacking:
            skipped.append(Skipped(skip.path, f"submodule partly scanned: {len(lacking)} recorded "
                                   "commit(s) are not in its local repository (`git submodule "
                                   "update` fetches them)"))  # fmt: skip
    entered = len(parts) - 1
    notes += [f"--recurse-submodules: scanned the history of {entered} submodule(s) present here"]
    summary = summary._replace(blobs=blobs, bytes=nbytes, notes=tuple(notes),
                               skipped=tuple(sorted(skipped, key=lambda k: k.path)))  # fmt: skip
    return ScanResult(summary, merge_findings(settings.rules, parts))


def _under(prefix: str, found: Sequence[Finding]) -> list[Finding]:
    """Findings of a submodule's repository, located under its path in the superproject."""
    return [
        f._replace(
            locations=tuple(loc._replace(path=f"{prefix}/{loc.path}") for loc in f.locations)
        )
        for f in found
    ]


def _stats(
    refs: int, listed: Objects, dropped: list[BlobRef], scanned: BlobScan, laps: Sequence[float]
) -> HistoryStats:
    """What `scan_history` read and dropped; `laps` are its clock readings: listing (the walk starts
    with it, on another core), reading and matching, then what was left of the walk."""
    phases = ("listing", "reading and matching", "waiting for the walk")
    return HistoryStats(
        refs=refs, commits=listed.commit_count, listed=len(listed.blobs),
        listed_bytes=sum(b.size for b in listed.blobs), unreachable=len(dropped),
        unreachable_bytes=sum(b.size for b in dropped), full_scans=scanned.full_scans,
        timings=tuple((name, end - start) for name, start, end in zip(phases, laps, laps[1:])),
    )  # fmt: skip


def _only(scanned: BlobScan, reachable: Reachable, dropped: list[BlobRef]) -> BlobScan:
    """`scanned` without the blobs no ref reaches (they were read once each, like every other)."""
    hits = {oid: found for oid, found in scanned.hits.items() if oid in reachable}
    return scanned._replace(hits=hits, reads=scanned.reads - len(dropped),
                   bytes=scanned.bytes - sum(b.size for b in dropped))  # fmt: skip


def scan_range(settings: Settings, path: Path, spec: str, options: Options) -> ScanResult:
    """What the commits of BASE..HEAD added; a new branch, a force-push and BASE == HEAD each say so."""
    started = time.monotonic()
    repo = history.open_repo(path)
    plan = plan_range(repo, spec)
    fetched = _download(repo, plan.revs, options) if plan.revs else 0
    notes = _repo_notes(repo, fetched) + list(plan.notes)
    plan = Plan(plan.revs, plan.head, tuple(notes))
    if not plan.revs:
        return _empty(repo, "range", notes, started)
    wanted, big = _by_size(history.range_blobs(repo, plan.revs), options.max_size)
    plan = Plan(plan.revs, plan.head, plan.notes + tuple(_size_note(big, options)))
    scanned = _scan_all(settings, repo, wanted, options)
    return _result(settings, repo, "range", scanned, plan, options, started)


def plan_range(repo: Repo, spec: str) -> Plan:
    base_text, sep, head_text = spec.partition("..")
    if not sep or head_text.startswith("."):
        raise UsageError(f"--range {spec!r} is not BASE..HEAD; give two commits, e.g. main..HEAD.")
    head_text = head_text or "HEAD"
    head = history.resolve_commit(repo, head_text)
    if head is None:
        raise UsageError(f"--range: {head_text!r} does not name a readable commit in {repo.root}; check "
                         "the name (or run `git fsck` if it should exist).")  # fmt: skip
    short = head[:12]
    if not base_text or history.ZERO.fullmatch(base_text):
        return _new_branch(repo, head, f"new branch (no base commit): scanned {short}")
    base = history.resolve_commit(repo, base_text)
    if base is None and not history.OBJECT_ID.fullmatch(base_text):
        raise UsageError(f"--range: {base_text!r} does not name a readable commit in {repo.root}; "
                         "check the name.")  # fmt: skip
    if base is None and repo.shallow:  # cut off by the shallow clone: what to compare with is gone
        raise SourceError(f"--range: base {base_text} is not in this shallow clone, so what the "
                          "range added cannot be told apart; fetch the history (`git fetch "
                          "--unshallow`, or `fetch-depth: 0` on actions/checkout) and scan again.")  # fmt: skip
    if base is None:  # an id from a push or CI event that this clone does not have
        return _new_branch(repo, head, f"base {base_text} is not in this repository (a force-push, "
                           f"or a shallow clone?): scanned {short}")  # fmt: skip
    if base == head:
        return Plan((), head, (f"BASE and HEAD are the same commit ({short}): nothing to scan",))
    revs = (head, "--not", base)
    count = history.count_commits(repo, revs)
    if history.is_ancestor(repo, base, head):
        note = f"range {base[:12]}..{short}: scanned what its {count} commit(s) added"
    else:
        note = (f"base {base[:12]} is not an ancestor of {short} (a force-push or rebase): scanned what "
                f"{short} has that {base[:12]} does not ({count} commit(s))")  # fmt: skip
    return Plan(revs, head, (note,))


def _new_branch(repo: Repo, head: str, what: str) -> Plan:
    remotes = history.count_commits(repo, ("--remotes", "--max-count=1")) > 0
    if remotes:
        revs = (head, "--not", "--remotes")
        count = history.count_commits(repo, revs)
        return Plan(
            revs, head, (f"{what}: its {count} commit(s) not on any remote-tracking branch",)
        )
    count = history.count_commits(repo, (head,))
    note = f"{what}: all {count} commit(s) of its history (no remote-tracking branches to compare with)"
    return Plan((head,), head, (note,))


def _download(repo: Repo, revs: Sequence[str], options: Options) -> int:
    """A partial clone's objects that `revs` reach and it never downloaded: fetched in one batch with
    `fetch_missing` (how many), else the scan stops with a sentence (exit 2), never a pass. A second
    batch only if a fetched tree names blobs that are missing too (a `tree:0` clone)."""
    fetched = 0
    missing = promisor.missing_objects(repo, revs)
    for _ in range(2):
        if not missing or not options.fetch_missing:
            break
        nbytes = promisor.fetch_objects(repo, missing, options.fetch_progress)
        fetched += len(missing)
        if options.on_fetched is not None:
            options.on_fetched(len(missing), nbytes)
        missing = promisor.missing_objects(repo, revs)
    if not missing:
        return fetched
    raise SourceError(promisor.not_downloaded(repo, len(missing)))


def _repo_notes(repo: Repo, fetched: int | None = None) -> list[str]:
    """`fetched`: how many missing objects `_download` fetched (None: it was not asked)."""
    notes = []
    if repo.partial and fetched is None:
        notes.append("partial clone: objects that were never downloaded are not scanned (leakscan "
                     "does not fetch them)")  # fmt: skip
    elif repo.partial:
        notes.append(f"partial clone: {fetched} missing object(s) fetched from its promisor remote "
                     "and scanned" if fetched else "partial clone: every object the scan reads "
                     "was present")  # fmt: skip
    if repo.shallow:
        notes.append("shallow clone: history is partial; only the commits present were scanned "
                     "(`git fetch --unshallow` for all of them)")  # fmt: skip
    return notes


def _empty(repo: Repo, mode: str, notes: list[str], started: float) -> ScanResult:
    summary = ScanSummary(target=repo.root, mode=mode, files=0, blobs=0, bytes=0,
                          notes=tuple(notes), seconds=time.monotonic() - started)  # fmt: skip
    return ScanResult(summary, ())


def _by_size(blobs: Sequence[BlobRef], max_size: int) -> tuple[list[BlobRef], list[BlobRef]]:
    return [b for b in blobs if b.size <= max_size], [b for b in blobs if b.size > max_size]


def _size_note(big: Sequence[BlobRef], options: Options) -> list[str]:
    if not big:
        return []
    limit = human_size(options.max_size)
    return [f"{len(big)} blob(s) larger than --max-file-size ({limit}) not scanned"]


def _scan_all(
    settings: Settings, repo: Repo, wanted: Sequence[BlobRef], options: Options
) -> BlobScan:
    progress = None
    if options.start_progress is not None:
        progress = options.start_progress(len(wanted), sum(b.size for b in wanted))
    return scan_blobs(settings, repo.git_dir, wanted, options.jobs, progress)


def _recorded(repo: Repo, revs: Sequence[str]) -> dict[str, list[str]]:
    """Each submodule path the scanned commits record -> its recorded commits, newest first."""
    commits: dict[str, list[str]] = {}
    for path, commit in history.gitlinks(repo, revs):
        commits.setdefault(path, []).append(commit)
    return commits


def _submodules(recorded: dict[str, list[str]]) -> list[Skipped]:
    """Each submodule the scanned commits record, once, with its newest recorded commit."""
    return [
        Skipped(path, f"submodule not scanned (commit {ids[0]}"
                + (f", and {len(ids) - 1} other recorded commit(s))" if len(ids) > 1 else ")"))
        for path, ids in recorded.items()
    ]  # fmt: skip


def _result(
    settings: Settings,
    repo: Repo,
    mode: str,
    scanned: BlobScan,
    plan: Plan,
    options: Options,
    started: float,
    dangling: Sequence[str] = (),
    stats: HistoryStats | None = None,
    recorded: dict[str, list[str]] | None = None,
) -> ScanResult:
    """`recorded`: the submodules of `plan.revs` (`_recorded`), when the caller has them."""
    notes = list(plan.notes) + _scan_notes(scanned)
    attributing = time.monotonic()
    walk = introductions(repo, set(scanned.hits), plan.revs, dangling)
    occurrences, skipped, at_head = _place_all(settings, repo, scanned, walk.seen, plan, options)
    windowing = time.monotonic()
    whole = "--not" not in plan.revs  # the walk saw every commit that could add or remove a key
    windows = (
        exposure_windows(repo, scanned, walk, at_head, plan.head, options.excludes) if whole else {}
    )
    if stats is not None:
        spent = (("attributing", windowing - attributing),
                 ("exposure windows", time.monotonic() - windowing))  # fmt: skip
        stats = stats._replace(timings=(*stats.timings, *spent))
    if plan.head is not None and not options.recurse_submodules:
        _, gitlinks = history.head_tree(repo, plan.head)
        if gitlinks:
            notes.append(
                f"{gitlinks} submodule(s) at HEAD not scanned; scan each repository on its own"
            )
    if plan.revs:
        skipped += _submodules(recorded if recorded is not None else _recorded(repo, plan.revs))
    summary = ScanSummary(
        target=repo.root, mode=mode, files=0, blobs=scanned.reads, bytes=scanned.bytes,
        skipped=tuple(sorted(skipped, key=lambda s: s.path)), notes=tuple(notes),
        seconds=time.monotonic() - started, history=stats,
    )  # fmt: skip
    findings = from_occurrences(settings.rules, occurrences, settings.allowed,
                                lambda s: s in at_head)  # fmt: skip
    return ScanResult(summary, with_exposure(settings.rules, findings, windows))


def _scan_notes(scanned: BlobScan) -> list[str]:
    notes = []
    if scanned.binary:
        notes.append(f"{scanned.binary} binary blob(s) not scanned")
    if scanned.lfs_pointers:
        notes.append(f"{scanned.lfs_pointers} Git LFS pointer(s): the files they point to are not in "
                     "git and were not scanned")  # fmt: skip
    return notes


def _place_all(
    settings: Settings,
    repo: Repo,
    scanned: BlobScan,
    seen: dict[str, list[Seen]],
    plan: Plan,
    options: Options,
) -> tuple[list[Occurrence], list[Skipped], set[str]]:
    """Each matched blob's hits at each path it appears under; and the secrets present at HEAD."""
    occurrences: list[Occurrence] = []
    skipped: list[Skipped] = []
    if not scanned.hits:
        return occurrences, skipped, set()
    head_blobs = history.head_tree(repo, plan.head)[0] if plan.head else set()
    at_head: set[str] = set()
    for oid, found in scanned.hits.items():
        places = seen.get(oid) or [Seen(f"(blob {oid[:12]}, in no commit)", None, None)]
        places = [p for p in places if not excluded(p.path, options.excludes)]
        for where in places:
            report = place(settings, found, where.path, where.commit, where.author_date)
            occurrences.extend(report.occurrences)
            skipped.extend(report.skipped)
        if oid in head_blobs and places:
            at_head.update(h.secret for h in found.hits)
    missing = {o.secret for o in occurrences} - at_head
    if missing and plan.head is not None and plan.revs != ("--all",):
        at_head |= _secrets_in_tree(settings, repo, plan.head, missing, set(scanned.hits), options)
    return occurrences, skipped, at_head


def _secrets_in_tree(
    settings: Settings, repo: Repo, commit: str, secrets: set[str], skip: set[str], options: Options
) -> set[str]:
    """Which of `secrets` the rules still find in some file of `commit`, looking at the blobs a range
    scan did not read (files the range left unchanged). Only when a range has such findings; only
    blobs that hold one of the secrets literally, or a keyword encoded (a key found decoded), and
    containers (a key inside an archive is compressed), go through the rules."""
    files = [(oid, path) for oid, path in history.tree_blobs(repo, commit)
             if oid not in skip and not excluded(path, options.excludes)]  # fmt: skip
    wanted = {s.encode("utf-8") for s in secrets}
    present: set[str] = set()
    oids = list(dict.fromkeys(oid for oid, _ in files))
    for _, data in cat_blobs(repo.git_dir, oids, options.max_size):
        if data is None:
            continue
        if any(s in data for s in wanted) or has_encoded_keyword(data) or container_kind(data):
            present.update(h.secret for h in match_blob(settings, data).hits if h.secret in secrets)
    return present


def blobs_of(repo: Repo, revs: Sequence[str] | None) -> list[BlobRef]:
    """The blobs of the whole history (`revs` None: reachable from every ref, in delta-chain order), or
    those `git rev-list --objects REVS` lists."""
    if revs is None:
        if not history.has_refs(repo):
            return []
        walk = history.start_walk(repo, ["--all"])  # blobs only, beside the listing
        try:
            listed = history.all_objects(repo, with_commits=False)
            reachable = history.finish_walk(repo, walk)
        finally:
            history.stop_walk(walk)
        return [b for b in listed.blobs if b.oid in reachable]
    return history.range_blobs(repo, revs)


def scan_blob_list(
    settings: Settings,
    repo: Repo,
    blobs: Sequence[BlobRef],
    revs: Sequence[str] | None,
    options: Options,
) -> ScanResult:
    """Scan exactly `blobs` — a part of a history, such as one shard of `scan-many` — and
    attribute the matches through the walk of `revs` (None: every ref)."""
    started = time.monotonic()
    wanted, big = _by_size(blobs, options.max_size)
    notes = _repo_notes(repo) + _size_note(big, options)
    walk = ("--all",) if revs is None else tuple(revs)
    plan = Plan(walk, history.resolve_commit(repo, "HEAD"), tuple(notes))
    scanned = _scan_all(settings, repo, wanted, options)
    return _result(settings, repo, "history" if revs is None else "range", scanned, plan, options,
                   started)  # fmt: skip
