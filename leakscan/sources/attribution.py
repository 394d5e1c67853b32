"""Where a matched blob came from: every path it appears under, each with the first commit (topological
order, oldest first) that put it there, and that commit's author date. One `git log --raw` walk, only
for the blobs that matched (tree diffs, never `git log -p`)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from leakscan.errors import SourceError
from leakscan.sources.git import failure, scratch_file, start
from leakscan.sources.history import GITLINK, Repo
from leakscan.units import display_path

MAX_FIND_OBJECTS = 2000  # more matched blobs than this: filter the full `git log --raw` in Python


class Seen(NamedTuple):
    """A blob at a path, first seen in `commit` (topological order, oldest first)."""

    path: str
    commit: str | None
    author_date: str | None


def introductions(
    repo: Repo, oids: set[str], revs: Sequence[str], extra_commits: Sequence[str] = ()
) -> dict[str, list[Seen]]:
    """For each blob of `oids`: every path it appears under, each with the first commit (topological
    order, oldest first) that put it there. One `git log --raw` walk over `revs` (+ extra commits)."""
    if not oids:
        return {}
    cmd = ["log", "--topo-order", "--reverse", "--raw", "--no-abbrev", "--no-renames", "--root",
           "--diff-merges=first-parent", "--no-ext-diff", "--no-textconv", "-z", "--format=commit %H %aI", *revs]  # fmt: skip
    if len(oids) <= MAX_FIND_OBJECTS:  # git keeps only the diffs that touch these blobs
        cmd[1:1] = [f"--find-object={oid}" for oid in sorted(oids)]
    if extra_commits:
        cmd.append("--stdin")
    stdin = "".join(c + "\n" for c in extra_commits).encode("ascii") if extra_commits else None
    found: dict[str, dict[str, Seen]] = {}
    commit = date = None
    tokens = _log_tokens(repo, cmd, stdin)
    for token in tokens:
        token = token.lstrip(b"\n")
        if token.startswith(b"commit "):
            _, commit, date = token.strip().decode("ascii").split(" ")
            continue
        if not token.startswith(b":"):
            continue
        path = display_path(os.fsdecode(next(tokens)))
        meta = token[1:].split(b" ")
        new_oid, status = meta[3].decode("ascii"), meta[4][:1]
        if status != b"D" and new_oid in oids and meta[1].decode() != GITLINK:
            found.setdefault(new_oid, {}).setdefault(path, Seen(path, commit, date))
    return {oid: list(paths.values()) for oid, paths in found.items()}


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
