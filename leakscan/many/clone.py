"""Getting one repository of a `scan-many` run onto the worker: a local path is opened where it is,
a clone URL is cloned (bare, every branch and tag) into a temporary directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from leakscan.errors import SourceError
from leakscan.many.repolist import RepoSpec

# Never prompt for credentials: a worker has no terminal, and a prompt would hang the task.
_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GCM_INTERACTIVE": "never",
}


def local_copy(spec: RepoSpec, scratch: Path) -> Path:
    """A path to the repository: `spec.location` itself, or a fresh bare clone under `scratch`."""
    if not spec.is_url:
        if not os.path.isdir(spec.location):
            raise SourceError("no such directory; check the path in the repository list.")
        return Path(spec.location)
    target = scratch / "repo.git"
    cmd = ["git", "clone", "--bare", "--quiet", "--no-hardlinks", "--", spec.location, str(target)]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            env={**os.environ, **_ENV},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise SourceError(
            "git is not installed or not on PATH; install git and try again."
        ) from None
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


def ref_tips(git_dir: str) -> tuple[tuple[str, str], ...]:
    """(ref name, object id) of every ref, and HEAD: what a history scan reaches, and where the next
    incremental run starts from."""
    cmd = ["git", f"--git-dir={git_dir}", "for-each-ref", "--format=%(refname) %(objectname)"]
    proc = subprocess.run(cmd, capture_output=True, env={**os.environ, **_ENV}, check=False)
    if proc.returncode != 0:
        lines = os.fsdecode(proc.stderr).strip().splitlines()
        detail = lines[-1].removeprefix("fatal: ") if lines else f"exit status {proc.returncode}"
        raise SourceError(f"{git_dir}: git could not list the refs ({detail}).")
    tips = dict(line.rsplit(" ", 1) for line in os.fsdecode(proc.stdout).splitlines() if line)
    head = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "--verify", "--quiet", "HEAD"],
                          capture_output=True, env={**os.environ, **_ENV}, check=False)  # fmt: skip
    if head.returncode == 0 and head.stdout.strip():
        tips["HEAD"] = os.fsdecode(head.stdout.strip())
    return tuple(sorted(tips.items()))
