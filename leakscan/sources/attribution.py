"""Where a matched blob came from: every path it appears under, each with the first commit (topological
order, oldest first) that put it there, and that commit's author date. One `git log --raw` walk, only
for the blobs that matched (tree diffs, never `git log -p`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from leakscan.errors import SourceError
from leakscan.model import Change
from leakscan.sources.git import failure, run, run_git, scratch_file, start
from leakscan.sources.history import GITLINK, Repo
from leakscan.units import display_path

MAX_FIND_OBJECTS = 2000  # more matched blobs than this: filter the full `git log --raw` in Python


class Seen(NamedTuple):
    """A blob at a path, first seen in `commit` (topological order, oldest first)."""

    path: str
    commit: str | None
    author_date: str | None


class Walk(NamedTuple):
    seen: dict[str, list[Seen]]  # blob -> every path it appears under, with its first commit
    changes: list[Change]  # in walk order (topological, oldest first)


def introductions(
    repo: Repo, oids: set[str], revs: Sequence[str], extra_commits: Sequence[str] = ()
) -> Walk:
    """For each blob of `oids`: every path it appears under, each with the first commit (topological
    order, oldest first) that put it there; and every commit that put one at or took one from a
    path. One `git log --raw` walk over `revs` (+ extra commits): `--find-object` keeps the diffs
    whose old or new side is one of the blobs, so removals come at no extra cost."""
    if not oids:
        return Walk({}, [])
    cmd = ["log", "--topo-order", "--reverse", "--raw", "--no-abbrev", "--no-renames", "--root",
           "--diff-merges=first-parent", "--no-ext-diff", "--no-textconv", "-z",
           "--format=commit %H %aI %P", *revs]  # fmt: skip
    if len(oids) <= MAX_FIND_OBJECTS:  # git keeps only the diffs that touch these blobs
        cmd[1:1] = [f"--find-object={oid}" for oid in sorted(oids)]
    if extra_commits:
        cmd.append("--stdin")
    stdin = "".join(c + "\n" for c in extra_commits).encode("ascii") if extra_commits else None
    found: dict[str, dict[str, Seen]] = {}
    changes: list[Change] = []
    commit = date = ""
    parent: str | None = None
    tokens = _log_tokens(repo, cmd, stdin)
    for token in tokens:
        token = token.lstrip(b"\n")
        if token.startswith(b"commit "):
            _, commit, date, *parents = token.strip().decode("ascii").split(" ")
            parent = parents[0] if parents else None
            continue
        if not token.startswith(b":"):
            continue
        path = display_path(os.fsdecode(next(tokens)))
        meta = token[1:].split(b" ")
        if meta[1].decode() == GITLINK:
            continue
        old_oid, new_oid, status = meta[2].decode("ascii"), meta[3].decode("ascii"), meta[4][:1]
        if old_oid in oids and status != b"A" and old_oid != new_oid:
            changes.append(Change(commit, parent, date, path, old_oid, False))
        if status != b"D" and new_oid in oids:
            found.setdefault(new_oid, {}).setdefault(path, Seen(path, commit, date))
            changes.append(Change(commit, parent, date, path, new_oid, True))
    return Walk({oid: list(paths.values()) for oid, paths in found.items()}, changes)


class RefReach(NamedTuple):
    """Which refs reach which commits: ref names (git's version order) and, per commit, a bit mask of
    the refs whose history holds it."""

    names: tuple[str, ...]
    masks: dict[str, int]

    def refs_of(self, commits: Iterable[str]) -> tuple[str, ...]:
        """The refs whose history holds one of `commits`, in `names` order."""
        mask = 0
        for commit in commits:
            mask |= self.masks.get(commit, 0)
        return tuple(name for i, name in enumerate(self.names) if mask >> i & 1)


def ref_reach(repo: Repo) -> RefReach:
    """One `for-each-ref` and one `rev-list --all --topo-order --parents` (commits only, children
    before parents): each ref's bit is set on its tip and carried down to every ancestor. A
    `for-each-ref --contains` per secret walked the whole history once each (0.4 s for the 43
    secrets of the synthetic history; docs/performance.md)."""
    listing = run_git(repo.git_dir, ["for-each-ref", "--sort=version:refname",
                                     "--format=%(refname) %(objectname) %(*objectname)"],
                      "list the refs")  # fmt: skip
    names: list[str] = []
    masks: dict[str, int] = {}
    for line in os.fsdecode(listing).splitlines():
        name, target, *peeled = line.split(" ")
        tip = peeled[0] if peeled and peeled[0] else target  # an annotated tag: its commit
        masks[tip] = masks.get(tip, 0) | 1 << len(names)
        names.append(name)
    if names:
        for line in _log_tokens_lines(
            repo, [*repo.rev_list(), "--all", "--topo-order", "--parents"]
        ):
            commit, *parents = line.split(" ")
            mask = masks.get(commit, 0)
            for parent in parents if mask else ():
                masks[parent] = masks.get(parent, 0) | mask
    return RefReach(tuple(names), masks)


def _log_tokens_lines(repo: Repo, args: list[str]) -> Iterator[str]:
    for token in _log_tokens(repo, args, None):
        yield from (line for line in token.decode("ascii", "replace").splitlines() if line)


def default_branch(repo: Repo) -> str | None:
    """The branch a clone checks out: what `origin/HEAD` points to, else the branch HEAD is on."""
    for name in ("refs/remotes/origin/HEAD", "HEAD"):
        proc = run([f"--git-dir={repo.git_dir}", "symbolic-ref", "--quiet", name])
        target = os.fsdecode(proc.stdout).strip()
        if proc.returncode == 0 and target:
            return target.replace("refs/remotes/origin/", "refs/heads/", 1)
    return None


def author_date(repo: Repo, commit: str) -> str | None:
    proc = run([f"--git-dir={repo.git_dir}", "show", "-s", "--format=%aI", commit])
    out = os.fsdecode(proc.stdout).strip()
    return out if proc.returncode == 0 and out else None


def _log_tokens(repo: Repo, args: list[str], stdin: bytes | None) -> Iterator[bytes]:
    """NUL-separated tokens of a git command's output, streamed (a long history never sits in memory)."""
    with scratch_file() as errors:  # a file, not a pipe: git's stderr can never block it
        proc = start([f"--git-dir={repo.git_dir}", *args], stdin=bool(stdin), stderr=errors)
        assert proc.stdout is not None
        if stdin and proc.stdin is not None:
            proc.stdin.write(stdin)  # commit ids only: small enough for the pipe in practice
            proc.stdin.close()
        rest = b""
        try:
            while block := proc.stdout.read(1 << 20):
                parts = (rest + block).split(b"\0")
                rest = parts.pop()
                yield from parts
            if rest:
                yield rest
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise SourceError(failure(repo.git_dir, "walk the history", errors.read(), code))
