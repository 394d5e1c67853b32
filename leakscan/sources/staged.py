"""The index: what is about to be committed. Kept light, since a pre-commit hook runs it on every commit:
two git processes (`git diff --cached --raw` or `git ls-files --stage`, then `git cat-file --batch`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import SourceError
from leakscan.model import Blob, Skipped
from leakscan.sources.git import cat_blobs, rev_parse, run_git
from leakscan.units import display_path, excluded, human_size

if TYPE_CHECKING:
    from leakscan.model import StrPath

GITLINK = "160000"
SYMLINK = "120000"


class Entry(NamedTuple):
    path: str  # relative to the work tree's top level, as reports show it
    oid: str
    mode: str


class Index(NamedTuple):
    root: str  # the work tree's top level
    git_dir: str
    entries: tuple[Entry, ...]
    notes: tuple[str, ...]


def read_index(repo: StrPath | None, paths: list[str], cwd: StrPath) -> Index:
    """Staged files (added, copied, modified, renamed), or the index entries of the named paths."""
    where = repo or cwd
    git_dir, root = _locate(where)
    if paths:
        absolute = [os.path.abspath(os.path.join(cwd, p)) for p in paths]
        out = run_git(git_dir, ["-C", root, "ls-files", "--stage", "-z", "--full-name", "--",
                                *absolute], "list the index")  # fmt: skip
        entries, conflicted = _from_ls_files(out)
    else:
        out = run_git(git_dir, ["-C", root, "diff", "--cached", "--raw", "-z", "--no-renames",
                                "--no-abbrev", "--diff-filter=ACMRT", "--no-ext-diff",
                                "--no-textconv"],
                      "list the staged files")  # fmt: skip
        entries, conflicted = _from_diff(out), 0
    notes = []
    links = [e for e in entries if e.mode == GITLINK]
    if links:
        notes.append(f"{len(links)} submodule(s) not scanned; scan each on its own")
    if conflicted:
        notes.append(
            f"{conflicted} conflicted index entr(y/ies) not scanned; resolve the merge first"
        )
    if paths and not entries:
        notes.append("none of the named paths is in the index")
    kept = tuple(e for e in entries if e.mode not in (GITLINK, SYMLINK))
    return Index(root, git_dir, kept, tuple(notes))


def staged_files(
    index: Index, max_size: int, excludes: tuple[str, ...]
) -> Iterator[Blob | Skipped]:
    """Each staged file's content as a Blob (line numbers are the staged file's)."""
    wanted = [e for e in index.entries if not excluded(e.path, excludes)]
    by_oid: dict[str, list[str]] = {}
    for e in wanted:
        by_oid.setdefault(e.oid, []).append(e.path)
    for oid, data in cat_blobs(index.git_dir, list(by_oid), max_size):
        for path in by_oid[oid]:
            if data is None:
                yield Skipped(path, f"larger than --max-file-size ({human_size(max_size)})")
            else:
                yield Blob(path, data)


def split_repo(args: list[str]) -> tuple[str | None, list[str]]:
    """`[REPO] [PATH...]`: the first argument is the repository when it is a repository's top level
    (or a bare repository); otherwise every argument is a path inside the current repository."""
    if not args or not os.path.isdir(args[0]):
        return None, args
    proc = rev_parse(args[0], "--is-bare-repository", "--show-toplevel")
    lines = os.fsdecode(proc.stdout).splitlines()
    if lines[:1] == ["true"]:
        return args[0], args[1:]
    if len(lines) == 2 and os.path.realpath(lines[1]) == os.path.realpath(args[0]):
        return args[0], args[1:]
    return None, args


def _locate(where: StrPath) -> tuple[str, str]:
    proc = rev_parse(where, "--absolute-git-dir", "--show-toplevel")
    lines = os.fsdecode(proc.stdout).splitlines()
    if proc.returncode != 0 or len(lines) != 2:
        if b"work tree" in proc.stderr:
            raise SourceError(
                f"{where}: a bare repository has no index; --staged needs a work tree."
            )
        raise SourceError(
            f"{where}: not inside a git work tree; --staged scans a repository's index."
        )
    return lines[0], lines[1]


def _from_diff(out: bytes) -> list[Entry]:
    tokens = out.split(b"\0")
    entries = []
    for meta, path in zip(tokens[0::2], tokens[1::2]):
        fields = meta[1:].split(b" ")
        entries.append(Entry(_shown(path), fields[3].decode("ascii"), fields[1].decode("ascii")))
    return entries


def _from_ls_files(out: bytes) -> tuple[list[Entry], int]:
    entries, conflicted = [], set()
    for item in out.split(b"\0"):
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, oid, stage = meta.decode("ascii").split(" ")
        if stage != "0":
            conflicted.add(path)
            continue
        entries.append(Entry(_shown(path), oid, mode))
    return entries, len(conflicted)


def _shown(path: bytes) -> str:
    return display_path(os.fsdecode(path))
