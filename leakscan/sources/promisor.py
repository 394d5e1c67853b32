"""A partial clone's objects that were never downloaded: which ones a scan would need, and the one
fetch that downloads them (`--fetch-missing`). Everything goes through the one git runner; the fetch
is the only call of a scan that may use the network (docs/decisions.md "Partial clones")."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from leakscan.errors import SourceError
from leakscan.sources.git import failure, run, run_git, scratch_file, start
from leakscan.sources.history import Repo

# What git's own lazy fetch runs (promisor-remote.c), in one batch. The remote's command-running
# settings are the repository's (untrusted): none of them may run a program of its choosing.
FETCH = ["-c", "fetch.negotiationAlgorithm=noop", "-c", "credential.helper=", "-c", "core.gitProxy=",
         "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
         "--filter=blob:none", "--stdin",
         # the option, not `-c remote.X.uploadpack`: git takes the FIRST uploadpack value it reads
         "--upload-pack=git-upload-pack"]  # fmt: skip

RECEIVING = re.compile(rb"Receiving objects: +\d+% \((\d+)/(\d+)\)")
FetchProgress = Callable[[int, int], None]  # (objects received, objects to receive)


def missing_objects(repo: Repo, revs: Sequence[str]) -> list[str]:
    """The ids `revs` reach that this partial clone never downloaded (`--missing=print`: `?<id>`)."""
    if not repo.partial:
        return []
    out = run_git(repo.git_dir, [*repo.rev_list(), "--objects", "--no-object-names", *revs],
                  "walk the history")  # fmt: skip
    return sorted({line[1:] for line in os.fsdecode(out).splitlines() if line.startswith("?")})


def promisor_remote(repo: Repo) -> str:
    """The remote the partial clone downloads its missing objects from."""
    out = run([f"--git-dir={repo.git_dir}", "config", "--get-regexp",
               r"^(extensions\.partialclone|remote\..*\.promisor)$"]).stdout  # fmt: skip
    for line in os.fsdecode(out).splitlines():
        key, _, value = line.partition(" ")
        if key == "extensions.partialclone" and value:
            return value
        if key.startswith("remote.") and value.strip().lower() not in ("", "false"):
            return key[len("remote.") : -len(".promisor")]
    raise SourceError(f"{repo.root}: the partial clone names no promisor remote; fetch its "
                      "missing objects with git, then scan again.")  # fmt: skip


def fetch_objects(repo: Repo, oids: Sequence[str], progress: FetchProgress | None = None) -> int:
    """Download `oids` from the promisor remote in one fetch; the bytes they hold. `progress` is
    told how many objects have arrived as git receives them."""
    remote = promisor_remote(repo)
    if remote.startswith("-"):
        raise SourceError(f"{repo.root}: the promisor remote {remote!r} is not a remote name.")
    stdin = "".join(o + "\n" for o in oids).encode("ascii")
    args = [f"--git-dir={repo.git_dir}", *FETCH, "--", remote]
    if progress is None:
        proc = run(args, stdin=stdin, network=True)
        code, stderr = proc.returncode, proc.stderr
    else:
        args[args.index("--quiet")] = "--progress"
        code, stderr = _fetch_showing_progress(args, stdin, progress)
    if code != 0:
        what = f"fetch the {len(oids)} missing object(s) from {remote}"
        raise SourceError(failure(repo.git_dir, what, stderr, code))
    sizes = run_git(repo.git_dir, ["cat-file", "--batch-check=%(objectsize)"],
                    "look up the fetched objects", stdin=stdin)  # fmt: skip
    return sum(int(s) for s in sizes.split() if s.isdigit())


def _fetch_showing_progress(
    args: Sequence[str], stdin: bytes, progress: FetchProgress
) -> tuple[int, bytes]:
    """(exit status, stderr) of a `git fetch --progress`, `progress` called for each of git's
    `Receiving objects: 45% (450/1000)` updates as they come."""
    with scratch_file() as out:
        proc = start(args, stdin=True, stdout=out, network=True)
        assert proc.stdin is not None and proc.stderr is not None
        try:
            proc.stdin.write(stdin)  # read whole before git says anything (`fetch --stdin`)
            proc.stdin.close()
        except BrokenPipeError:  # git ended first: its stderr says why
            pass
        seen = bytearray()
        while chunk := os.read(proc.stderr.fileno(), 4096):
            seen += chunk
            counts = RECEIVING.findall(seen[-200:])
            if counts:
                progress(int(counts[-1][0]), int(counts[-1][1]))
        return proc.wait(), bytes(seen)


def not_downloaded(repo: Repo, count: int) -> str:
    """The sentence of a scan that stops (exit 2) instead of passing with objects left out."""
    return (
        f"{repo.root}: {count} object(s) of this partial clone were never downloaded, so they "
        "were not scanned; pass --fetch-missing to download them in one batch and scan them "
        "(or clone without --filter)."
    )
