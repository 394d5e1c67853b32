"""Git repositories as objects: which blobs a history or a range holds (listed once, in delta-chain order,
with their sizes), and the questions about commits that ranges, CI events and pre-push ask (each
answered here once). Where a matched blob came from is sources/attribution.py's job.
Everything goes through the one git runner (sources/git.py)."""

from __future__ import annotations

import binascii
import itertools
import os
import re
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import SourceError
from leakscan.sources.git import (
    CORRUPT_HINT,
    LISTING_BOUNDS,
    WALK_BOUNDS,
    BlobRef,
    Process,
    failure,
    git_lines,
    last_line,
    rev_parse,
    run,
    run_git,
    scratch_file,
    start,
)
from leakscan.units import display_path

if TYPE_CHECKING:
    from typing import IO

ZERO = re.compile(r"0+")
OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
GITLINK = "160000"
SYMLINK = "120000"
PACK_ORDER_ABOVE = 20_000  # objects in a range: list the whole object database to get pack order


class Repo(NamedTuple):
    git_dir: str  # absolute
    root: str  # what reports name: the work tree's top level, or the git directory of a bare repo
    bare: bool
    shallow: bool
    partial: bool = False  # a partial clone: some objects were never downloaded (never fetch them)

    def rev_list(self) -> list[str]:
        """`git rev-list` with what this repository needs: in a partial clone, objects never downloaded
        are listed as `?<id>` (and dropped) instead of fetched."""
        return ["rev-list", "--missing=print"] if self.partial else ["rev-list"]


def open_repo(path: Path) -> Repo:
    if not path.exists():
        raise SourceError(f"{path}: no such directory; name a git repository.")
    proc = rev_parse(path, "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository")
    lines = os.fsdecode(proc.stdout).splitlines()
    if proc.returncode != 0 or len(lines) != 3:
        detail = last_line(proc.stderr)
        if detail and os.path.lexists(path / ".git"):
            raise SourceError(f"{path}: git cannot open the repository here ({detail}); repair it.")
        raise SourceError(f"{path}: not a git repository; name a repository or run inside one.")
    git_dir, bare, shallow = lines[0], lines[1] == "true", lines[2] == "true"
    root = git_dir
    if not bare:
        top = rev_parse(path, "--show-toplevel")
        if top.returncode == 0 and top.stdout.strip():
            root = os.fsdecode(top.stdout.strip())
    promisors = run(
        [f"--git-dir={git_dir}", "config", "--get-regexp",
         r"^(extensions\.partialclone|remote\..*\.promisor)$"],
    ).stdout.decode("utf-8", "replace").splitlines()  # fmt: skip
    partial = any(line.split(" ", 1)[-1].strip().lower() not in ("", "false") for line in promisors)
    return Repo(git_dir, root, bare, shallow, partial)


def unreadable_object(repo: Repo, oid: str) -> str:
    return f"{repo.root}: git cannot read object {oid} (it is missing or corrupt); {CORRUPT_HINT}."


def resolve_commit(repo: Repo, rev: str | None) -> str | None:
    """The full id of the commit `rev` names, or None when it names nothing here (also for an empty
    or all-zero `rev`, which CI events and pre-push use for "no commit")."""
    if not rev or ZERO.fullmatch(rev) or rev.startswith("-"):
        return None
    proc = run([f"--git-dir={repo.git_dir}", "rev-parse", "--verify", "--quiet", "--end-of-options",
                f"{rev}^{{commit}}"])  # fmt: skip
    out = proc.stdout.decode("ascii", "replace").strip()
    return out if proc.returncode == 0 and out else None


def has_refs(repo: Repo) -> bool:
    out = run_git(
        repo.git_dir, ["for-each-ref", "--count=1", "--format=%(objectname)"], "list refs"
    )
    return bool(out.strip()) or resolve_commit(repo, "HEAD") is not None


def is_ancestor(repo: Repo, base: str, head: str) -> bool:
    proc = run([f"--git-dir={repo.git_dir}", "merge-base", "--is-ancestor", base, head])
    if proc.returncode not in (0, 1):
        raise SourceError(
            failure(repo.git_dir, "compare the two commits", proc.stderr, proc.returncode)
        )
    return proc.returncode == 0


def merge_base(repo: Repo, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None when they share no history."""
    proc = run([f"--git-dir={repo.git_dir}", "merge-base", a, b])
    found = os.fsdecode(proc.stdout.strip())
    return found if proc.returncode == 0 and found else None


def ref_tips(repo: Repo) -> tuple[tuple[str, str], ...]:
    """(ref name, object id) of every ref, and HEAD: what a history scan reaches, and where the next
    incremental run starts from."""
    out = run_git(
        repo.git_dir, ["for-each-ref", "--format=%(refname) %(objectname)"], "list the refs"
    )
    tips = dict(line.rsplit(" ", 1) for line in os.fsdecode(out).splitlines() if line)
    head = resolve_commit(repo, "HEAD")
    if head is not None:
        tips["HEAD"] = head
    return tuple(sorted(tips.items()))


def present(repo: Repo, ids: Sequence[str]) -> list[str]:
    """The commits and tags of `ids` this repository has, with one `git cat-file --batch-check` (an
    incremental run's recorded tips: a repository has hundreds of tags, a process each was seconds)."""
    wanted = [i for i in dict.fromkeys(ids) if OBJECT_ID.fullmatch(i)]
    if not wanted:
        return []
    out = run_git(repo.git_dir, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                  "look up the recorded commits", stdin="".join(i + "\n" for i in wanted).encode())  # fmt: skip
    found = (line.split(" ") for line in out.decode("ascii", "replace").splitlines())
    return [f[0] for f in found if len(f) == 2 and f[1] in ("commit", "tag")]


def count_commits(repo: Repo, revs: Sequence[str]) -> int:
    out = run_git(repo.git_dir, ["rev-list", "--count", *revs], "count the commits")
    return int(out.strip() or 0)


class Objects(NamedTuple):
    """What the object database holds: its blobs (delta-chain order, with sizes), its commit ids (if
    asked for) and how many commits there are (always)."""

    blobs: list[BlobRef]
    commits: list[str]
    commit_count: int


def all_objects(repo: Repo, with_commits: bool = True) -> Objects:
    """Every blob (in delta-chain order, with sizes) and every commit id (if `with_commits`) in the
    object database. Streamed: only those are kept, never the listing of every object."""
    lines = git_lines(
        repo.git_dir,
        ["cat-file", "--batch-all-objects", "--unordered",
         "--batch-check=%(objectname) %(objecttype) %(objectsize) %(deltabase)"],
        "list the objects",
        LISTING_BOUNDS,
    )  # fmt: skip
    blobs: list[BlobRef] = []
    index: dict[str, int] = {}
    parent = array("l")  # parent[i]: index of blobs[i]'s delta base among blobs, or -1
    later: list[tuple[int, str]] = []  # deltas whose base was not listed yet (rare)
    commits: list[str] = []
    commit_count = 0
    for line in lines:
        fields = line.split()
        kind = fields[1] if len(fields) > 1 else b""
        if kind == b"blob" and len(fields) == 4:
            oid = fields[0].decode("ascii")
            base = fields[3].decode("ascii")
            j = index.get(base, -1)
            if j < 0 and not ZERO.fullmatch(base):
                later.append((len(blobs), base))
            index[oid] = len(blobs)
            parent.append(j)
            blobs.append(BlobRef(oid, int(fields[2])))
        elif kind == b"commit":
            commit_count += 1
            if with_commits:
                commits.append(fields[0].decode("ascii"))
        elif kind == b"missing":
            raise SourceError(unreadable_object(repo, fields[0].decode("ascii", "replace")))
    for i, base in later:
        parent[i] = index.get(base, -1)
    del index
    return Objects(delta_order(blobs, parent), commits, commit_count)


def delta_order(blobs: Sequence[BlobRef], parent: Sequence[int]) -> list[BlobRef]:
    """`blobs` (pack order; `parent[i]` is the index of the delta base of `blobs[i]`, or -1) with every
    delta right after its base, depth first: each blob is then one delta away from the blob read just
    before it or from one of its bases, which git's delta-base cache still holds however small it is.
    Pack order needs a cache of ~100 MB to not re-inflate bases, and is slower even with it."""
    children: dict[int, list[int]] = {}
    for i, j in enumerate(parent):
        if j >= 0 and j != i:
            children.setdefault(j, []).append(i)
    order: list[BlobRef] = []
    done = bytearray(len(blobs))
    # roots first (pack order), then whatever a cycle left (an object in two packs, each a delta of
    # the other's copy): every blob exactly once
    for first in itertools.chain((i for i, j in enumerate(parent) if j < 0), range(len(blobs))):
        if done[first]:
            continue
        stack = [first]
        while stack:
            i = stack.pop()
            if done[i]:
                continue
            done[i] = 1
            order.append(blobs[i])
            stack.extend(reversed(children.get(i, ())))
    return order


def reachable_ids(repo: Repo, revs: Sequence[str]) -> set[str]:
    """Every object id reachable from `revs` (`git rev-list --objects`); fails on a missing object."""
    out = run_git(repo.git_dir, [*repo.rev_list(), "--objects", "--no-object-names", *revs],
                  "walk the history")  # fmt: skip
    return {line.split(" ", 1)[0] for line in out.decode("utf-8", "replace").splitlines()
            if line and not line.startswith("?")}  # fmt: skip


class Walk(NamedTuple):
    """A `git rev-list` running in the background while blobs are scanned; its output goes to an
    anonymous temporary file (no thread, so worker processes can be forked safely meanwhile)."""

    proc: Process
    out: IO[bytes]
    errors: IO[bytes]


def start_walk(repo: Repo, revs: Sequence[str]) -> Walk:
    """Start listing the blob ids reachable from `revs`; `finish_walk` collects them."""
    out, errors = scratch_file(), scratch_file()  # closed by stop_walk
    cmd = [f"--git-dir={repo.git_dir}", *repo.rev_list(), "--objects", "--no-object-names",
           "--filter=object:type=blob", *revs]  # fmt: skip
    proc = start(cmd, stdout=out, stderr=errors, bounds=WALK_BOUNDS)
    return Walk(proc, out, errors)


class Reachable:
    """The ids a walk listed, held as 20- or 32-byte binary ids (a third of the size of `str`s)."""

    __slots__ = ("_ids",)

    def __init__(self, ids: set[bytes]) -> None:
        self._ids = ids

    def __contains__(self, oid: object) -> bool:
        return isinstance(oid, str) and bytes.fromhex(oid) in self._ids

    def __len__(self) -> int:
        return len(self._ids)


def finish_walk(repo: Repo, walk: Walk) -> Reachable:
    """The ids the walk listed (blobs, and some commits and tags); a failed walk raises SourceError."""
    try:
        code = walk.proc.wait()
        walk.out.seek(0)
        walk.errors.seek(0)
        if code != 0:
            raise SourceError(failure(repo.git_dir, "walk the history", walk.errors.read(), code))
        # line by line: never the whole listing and a list of its lines next to the set
        return Reachable({binascii.unhexlify(line.rstrip()) for line in walk.out
                          if not line.startswith(b"?")})  # fmt: skip
    finally:
        stop_walk(walk)


def stop_walk(walk: Walk) -> None:
    if walk.proc.poll() is None:
        walk.proc.kill()
        walk.proc.wait()
    walk.out.close()
    walk.errors.close()


def unreachable_commits(repo: Repo, commits: Sequence[str]) -> list[str]:
    """The commits of `commits` that no ref (nor HEAD) reaches."""
    out = run_git(repo.git_dir, ["rev-list", "--all"], "walk the history")
    reachable = set(out.decode("ascii", "replace").split())
    return [c for c in commits if c not in reachable]


def range_blobs(
    repo: Repo, revs: Sequence[str], pack_order_above: int = PACK_ORDER_ABOVE
) -> list[BlobRef]:
    """The blobs `git rev-list --objects REVS` lists: new in a range, with their sizes. A large range (a
    new branch with no remote to compare with) is put in delta-chain order, which git reads fastest."""
    ids = reachable_ids(repo, ["--filter=object:type=blob", *revs])
    if not ids:
        return []
    if len(ids) > pack_order_above:
        blobs, commits, _ = all_objects(repo)
        in_pack_order = [b for b in blobs if b.oid in ids]  # delta-chain order
        leftover = ids - {b.oid for b in in_pack_order} - set(commits)
        _check_objects(repo, leftover)  # tags, or blobs that are missing: say so
        return in_pack_order
    return _check_objects(repo, ids)


def _check_objects(repo: Repo, ids: set[str]) -> list[BlobRef]:
    """The blobs among `ids`, with sizes; a missing or corrupt object raises SourceError."""
    if not ids:
        return []
    out = run_git(
        repo.git_dir,
        ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
        "look up the objects",
        stdin="".join(i + "\n" for i in sorted(ids)).encode("ascii"),
    )  # fmt: skip
    blobs = []
    for line in out.decode("ascii", "replace").splitlines():
        fields = line.split(" ")
        if len(fields) == 2 and fields[1] == "missing":
            raise SourceError(unreadable_object(repo, fields[0]))
        if len(fields) == 3 and fields[1] == "blob":
            blobs.append(BlobRef(fields[0], int(fields[2])))
    return blobs


def head_tree(repo: Repo, commit: str) -> tuple[set[str], int]:
    """Blob ids in `commit`'s tree, and how many submodules (gitlinks) it has."""
    out = run_git(repo.git_dir, ["ls-tree", "-r", "-z", "--full-tree", commit], "read HEAD's tree")
    blobs, gitlinks = set(), 0
    for entry in out.split(b"\0"):
        if not entry:
            continue
        mode, kind, rest = entry.split(b" ", 2)
        if mode.decode() == GITLINK:
            gitlinks += 1
        elif kind == b"blob":
            blobs.add(rest.split(b"\t", 1)[0].decode("ascii"))
    return blobs, gitlinks


def gitlinks(repo: Repo, revs: Sequence[str]) -> list[tuple[str, str]]:
    """(path, commit) of every submodule the commits of `revs` record, newest first, once each. Only
    histories that ever had a `.gitmodules` are diffed: the check is one path-limited walk, a
    full diff of every commit is not (a gitlink added without `.gitmodules` is not listed)."""
    probe = [*repo.rev_list(), "-1", *revs, "--", ".gitmodules"]
    if not run_git(repo.git_dir, probe, "look for submodules").strip():
        return []
    out = run_git(repo.git_dir, ["log", "--format=", "--raw", "-z", "--no-abbrev", "--no-renames",
                                 "--root", "-m", "--no-ext-diff", "--no-textconv", *revs],
                  "list the submodules")  # fmt: skip
    found: dict[tuple[str, str], None] = {}
    fields = iter(out.split(b"\0"))
    for meta in fields:
        parts = meta.lstrip(b"\n").split(b" ")
        if not parts[0].startswith(b":") or len(parts) != 5:
            continue
        path = next(fields, b"")
        if parts[1] == GITLINK.encode() and not parts[4].startswith(b"D"):
            found.setdefault((display_path(os.fsdecode(path)), parts[3].decode("ascii")), None)
    return list(found)


def tree_blobs(repo: Repo, commit: str) -> list[tuple[str, str]]:
    """(oid, path) of every file in `commit`'s tree."""
    out = run_git(repo.git_dir, ["ls-tree", "-r", "-z", "--full-tree", commit], "read HEAD's tree")
    found = []
    for entry in out.split(b"\0"):
        if entry:
            meta, path = entry.split(b"\t", 1)
            mode, kind, oid = meta.split(b" ")
            if kind == b"blob" and mode.decode() != SYMLINK:
                found.append((oid.decode("ascii"), display_path(os.fsdecode(path))))
    return found


def submodule_dir(repo: Repo, path: str) -> str | None:
    """The local repository of the submodule at `path`, or None when none is here: the
    superproject's `modules/NAME` (NAME from `.gitmodules` at HEAD, else the path; where `git
    submodule` keeps it), or a checkout of it with its own `.git` in the work tree."""
    names = [path]
    out = run([f"--git-dir={repo.git_dir}", "config", "--blob", "HEAD:.gitmodules", "-z",
               "--get-regexp", r"^submodule\..*\.path$"])  # fmt: skip
    for entry in out.stdout.split(b"\0") if out.returncode == 0 else ():
        key, _, value = os.fsdecode(entry).partition("\n")
        if value == path:
            names.insert(0, key.removeprefix("submodule.").removesuffix(".path"))
    candidates = [os.path.join(repo.git_dir, "modules", name) for name in names]
    if not repo.bare:
        candidates.append(os.path.join(repo.root, path))
    for where in candidates:
        marker = "HEAD" if where.startswith(repo.git_dir) else ".git"
        if os.path.lexists(os.path.join(where, marker)) and not os.path.islink(where):
            return where
    return None


def blobs_at(repo: Repo, places: Sequence[tuple[str, str]]) -> list[str | None]:
    """The blob id at each (commit, path), None where there is none: one `cat-file --batch-check`."""
    usable = [(c, p) for c, p in places if OBJECT_ID.fullmatch(c) and "\n" not in p]
    if not usable:
        return [None] * len(places)
    lines = "".join(f"{c}:{p}\n" for c, p in usable).encode("utf-8", "surrogateescape")
    out = run_git(repo.git_dir, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                  "look up the files of open findings", stdin=lines)  # fmt: skip
    found = {}
    for place, line in zip(usable, out.decode("ascii", "replace").splitlines(), strict=False):
        oid, _, kind = line.partition(" ")
        found[place] = oid if kind == "blob" else None
    return [found.get(p) for p in places]
