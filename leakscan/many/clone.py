"""Getting one repository of a `scan-many` run onto the worker: a local path is opened where it is,
a clone URL is cloned (bare, every branch and tag) into a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

from leakscan.errors import SourceError
from leakscan.many.repolist import RepoSpec
from leakscan.sources.git import run


def local_copy(spec: RepoSpec, scratch: Path) -> Path:
    """A path to the repository: `spec.location` itself, or a fresh bare clone under `scratch`. The
    clone is the one git run allowed on the network (https, ssh, git, file; never a prompt)."""
    if not spec.is_url:
        if not os.path.isdir(spec.location):
            raise SourceError("no such directory; check the path in the repository list.")
        return Path(spec.location)
    target = scratch / "repo.git"
    cmd = ["clone", "--bare", "--quiet", "--no-hardlinks", "--", spec.location, str(target)]
    proc = run(cmd, network=True)
    if proc.returncode != 0:
        detail = _first_fatal(proc.stderr) or f"exit status {proc.returncode}"
        detail = detail.replace(spec.location, spec.name)
        raise SourceError(f"git could not clone it ({detail}).")
    return target


def _first_fatal(stderr: bytes) -> str:
    """git's own reason (`fatal: …`), not the advice lines it prints after it."""
    lines = [ln.strip() for ln in os.fsdecode(stderr).splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("fatal: ")]
    line = (fatal or lines or [""])[0]
    return line.removeprefix("fatal: ").rstrip(".")
