"""Working trees and plain paths: tracked + untracked-not-ignored files inside git, every file outside."""

from __future__ import annotations

import os
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import SourceError
from leakscan.model import Blob, Skipped
from leakscan.sources.files import read_file
from leakscan.units import display_path, excluded

if TYPE_CHECKING:
    from leakscan.model import StrPath
    from leakscan.sources.git import Completed


class Plan(NamedTuple):
    root: str  # report paths are relative to this
    mode: str  # worktree | paths
    targets: tuple[str, ...]  # as pathlib would write them (`./a//b/` -> `a/b`)


def plan(targets: list[str], cwd: StrPath) -> Plan:
    """Check the targets exist and pick the root reports are relative to. Strings, not pathlib: a
    tree scan imports no `pathlib` (~6 ms of start-up with the `urllib.parse` it imports)."""
    paths = [_clean(t) for t in targets] or ["."]
    for p in paths:
        if not os.path.lexists(p):
            raise SourceError(f"{p}: no such file or directory; check the path and try again.")
    if len(paths) == 1 and os.path.isdir(paths[0]):
        root = paths[0]
        mode = "worktree" if git_toplevel(root) is not None else "paths"
        if mode == "paths" and os.path.lexists(os.path.join(root, ".git")):
            raise SourceError(
                f"{display_path(root)}: git cannot open the repository here "
                f"({_git_problem(root)}); repair it, or remove its .git to scan the files as plain files."
            )
    else:
        root, mode = os.fspath(cwd), "paths"
    return Plan(root, mode, tuple(paths))


def _clean(path: str) -> str:
    """`path` with no empty or `.` parts and no trailing separator, as pathlib writes it (`./a//b/`
    -> `a/b`): the reports' `target` and the files' shown paths are what they were with pathlib.
    The drive (`C:`, a UNC share) and the root are kept; POSIX keeps exactly two leading slashes."""
    drive, rest = os.path.splitdrive(path)
    if os.altsep:
        rest = rest.replace(os.altsep, os.sep)
    leading = len(rest) - len(rest.lstrip(os.sep))
    root = os.sep * (2 if leading == 2 and not drive and os.sep == "/" else min(leading, 1))
    parts = [part for part in rest.split(os.sep) if part and part != "."]
    return drive + root + os.sep.join(parts) or "."


SPARSE = "not checked out (outside the sparse checkout; --history reads it from git)"


class Entry(NamedTuple):
    """A file to read: where to open it, how reports show it, and whether a symlink is followed."""

    path: str
    shown: str
    follow: bool = False
    layout: bool = False  # an OCI image layout directory, read as one image (sources/images.py)


def files(
    plan: Plan, *, include_ignored: bool, max_size: int, excludes: tuple[str, ...]
) -> Iterator[Blob | Skipped]:
    for entry in entries(plan, include_ignored=include_ignored, excludes=excludes):
        yield entry if isinstance(entry, Skipped) else read_entry(entry, max_size)


def entries(
    plan: Plan, *, include_ignored: bool, excludes: tuple[str, ...]
) -> Iterator[Entry | Skipped]:
    """Every file the plan covers, once, in a stable order, without reading any of them."""
    seen: set[str] = set()
    skips: dict[str, str] = {}  # path -> why it was listed and not read
    for target in plan.targets:
        if os.path.isfile(os.path.join(target, "oci-layout")) and not os.path.islink(target):
            yield Entry(target, _layout_shown(target, plan.root), layout=True)  # one image
            continue
        for full, rel in _listed(plan, target, include_ignored, skips):
            shown = display_path(rel) if rel is not None else _shown(full, plan.root)
            if shown in seen or (excludes and excluded(shown, excludes)):
                continue
            seen.add(shown)
            if full in skips:  # reported as such, never silently empty
                yield Skipped(shown, skips[full])
            else:
                yield Entry(full, shown, rel is None and full == target)


def read_entry(entry: Entry, max_size: int) -> Blob | Skipped:
    if entry.layout:
        from leakscan.sources.images import read_layout

        return read_layout(entry.path, entry.shown, max_size)
    item = read_file(entry.path, entry.shown, max_size, follow=entry.follow)
    if item is None:
        return Skipped(entry.shown, "symlink, not followed")
    if isinstance(item, Skipped) and item.reason.endswith("(a directory)"):
        return Skipped(entry.shown, "a submodule or nested repository; scan it on its own")
    return item


def _listed(
    plan: Plan, target: str, include_ignored: bool, skips: dict[str, str]
) -> Iterator[tuple[str, str | None]]:
    """(path to open, path relative to the plan's root when known cheaply, else None)."""
    if target != plan.root or not os.path.isdir(target) or os.path.islink(target):
        yield from ((full, None) for full in _expand(target, include_ignored, skips))
        return
    top = os.path.normpath(target)
    if plan.mode == "worktree":  # the root is a git work tree: git lists paths relative to it
        for name in _repo_files(top, "", include_ignored, skips):
            yield os.path.join(top, name), name
        return
    prefix = top + os.sep
    cut = len(prefix)
    for path in _walk_paths(top, skips):
        yield path, path[cut:] if path.startswith(prefix) else None


def _expand(target: str, include_ignored: bool, skips: dict[str, str]) -> Iterator[str]:
    if not os.path.isdir(target) or os.path.islink(target):
        yield target
        return
    if git_toplevel(target) is not None:
        names = _repo_files(target, "", include_ignored, skips)
        yield from (_clean(os.path.join(target, name)) for name in names)
    else:
        yield from _walk_paths(target, skips)


def _walk_paths(top: str, skips: dict[str, str]) -> Iterator[str]:
    """Files (and symlinked directories) under `top`, sorted per directory, depth first as `os.walk`
    visits them; strings, no pathlib. One `scandir` per directory, no `lstat` per entry and no
    `os.path.join` (each entry's `path` is `directory/name` already): a third of what `os.walk` plus
    `islink` cost. Directories that cannot be listed are yielded last, with their error recorded in
    `skips`."""
    errors: list[OSError] = []
    stack = [top]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                found = sorted(listing, key=_NAME)
        except OSError as exc:
            errors.append(exc)
            continue
        files: list[str] = []
        below: list[str] = []
        for entry in found:
            if not _is_dir(entry):
                files.append(entry.path)
            elif entry.name == ".git":
                continue
            elif _is_symlink(entry):  # listed, never descended into
                yield entry.path
            else:
                below.append(entry.path)
        yield from files
        below.reverse()
        stack += below
    for err in errors:
        if err.filename:
            name = os.fsdecode(err.filename)
            skips[name] = f"unreadable: {err.strerror or err}"
            yield name


_NAME = attrgetter("name")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a symlink, as os.walk does: a linked directory is listed
    except OSError:
        return False


def _is_symlink(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def git_toplevel(path: StrPath) -> str | None:
    if not _may_be_in_a_repository(path):
        return None
    try:
        out = _git(path, "rev-parse", "--show-toplevel")
    except SourceError:  # git is not installed: a plain directory
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return os.fsdecode(out.stdout.strip())


def _may_be_in_a_repository(path: StrPath) -> bool:
    """False when neither `path` nor a parent has a `.git` and no GIT_* variable points elsewhere: a
    plain directory (an export, a download) then costs a few stat calls, not a git process."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES")):
        return True
    here = os.path.realpath(path)  # git looks for the repository from the physical path
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def _git(directory: StrPath, *args: str) -> Completed:
    """git in `directory` through the one runner, output captured."""
    # imported here: a plain directory (no `.git` above it) is scanned without the runner (~4 ms)
    from leakscan.sources.git import run

    return run(["-C", os.fspath(directory), *args])


def _repo_files(top: str, sub: str, include_ignored: bool, skips: dict[str, str]) -> list[str]:
    """The files of the repository at `top/sub` as git lists them, relative to `top`, with each
    checked-out submodule's files (as its own git lists them) in place of its gitlink; a submodule
    with no checkout is recorded in `skips`."""
    directory = os.path.join(top, sub) if sub else top
    names, links, sparse = _git_files(directory, include_ignored)
    found = [sub + name for name in names]
    for name in sparse:  # in the index, not written to disk: the history still has it
        full = os.path.join(top, sub + name)
        if not os.path.lexists(full):  # skip-worktree on a file that is there: read it
            skips[full] = skips[_clean(full)] = SPARSE
    for link in links:
        path = sub + link
        full = os.path.join(top, path)
        if os.path.lexists(os.path.join(full, ".git")) and not os.path.islink(full):
            found += _repo_files(top, path + "/", include_ignored, skips)
        else:
            skips[full] = skips[_clean(full)] = (
                "submodule not checked out"  # as either lister names it
            )
            found.append(path)
    return sorted(set(found))


def _git_files(directory: str, include_ignored: bool) -> tuple[list[str], list[str], list[str]]:
    """(files, submodule paths, files a sparse checkout left off the disk): tracked and untracked (not
    ignored, unless `include_ignored`). `-t` tags each name; `S` is git's skip-worktree bit."""
    exclude = () if include_ignored else ("--exclude-standard",)
    out = _git(directory, "ls-files", "-z", "-t", "--cached", "--others", *exclude)
    links = _git(directory, "ls-files", "-z", "--stage") if out.returncode == 0 else out
    if out.returncode != 0 or links.returncode != 0:
        message = os.fsdecode(out.stderr).strip().splitlines()
        detail = message[-1] if message else f"exit {out.returncode}"
        raise SourceError(f"{directory}: git could not list the files ({detail}).")
    gitlinks = {
        os.fsdecode(entry.split(b"\t", 1)[1])
        for entry in links.stdout.split(b"\0")
        if entry.startswith(b"160000 ")
    }
    tagged = [(n[:1], os.fsdecode(n[2:])) for n in out.stdout.split(b"\0") if n]
    names = {name for _, name in tagged} - gitlinks
    sparse = sorted(name for tag, name in tagged if tag == b"S" and name in names)
    return sorted(names), sorted(gitlinks), sparse


def _git_problem(path: str) -> str:
    """git's own last line about why it cannot open `path`."""
    try:
        out = _git(path, "rev-parse")
    except SourceError:
        return "git is not installed"
    lines = os.fsdecode(out.stderr).strip().splitlines()
    return lines[-1] if lines else "not a git repository"


def _layout_shown(target: str, root: str) -> str:
    """An image layout named as the target is shown by its directory's name, not as `.`."""
    shown = _shown(target, root)
    return shown if shown != "." else display_path(os.path.basename(os.path.abspath(target)))


def _shown(full: str, root: str) -> str:
    try:
        rel = os.path.relpath(full, root)
    except ValueError:
        rel = full
    if rel.startswith(".." + os.sep) or rel == "..":
        rel = full
    return display_path(rel)
