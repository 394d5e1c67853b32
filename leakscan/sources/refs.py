"""Questions about commits and refs, answered by git plumbing (for CI events and pre-push)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from leakscan.errors import SourceError

ZERO_SHA = "0" * 40


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as exc:
        raise SourceError(
            f"git could not be run ({exc.strerror or exc}); is it installed?"
        ) from None


def is_repository(repo: Path) -> bool:
    return _git(repo, "rev-parse", "--git-dir").returncode == 0


def is_shallow(repo: Path) -> bool:
    out = _git(repo, "rev-parse", "--is-shallow-repository")
    return out.returncode == 0 and out.stdout.strip() == b"true"


def commit(repo: Path, rev: str | None) -> str | None:
    """The full id of `rev` if it names a commit in `repo`, else None (also for the all-zero id)."""
    if not rev or rev.strip("0") == "" or rev.startswith("-"):
        return None
    out = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    return os.fsdecode(out.stdout.strip()) if out.returncode == 0 else None


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return _git(repo, "merge-base", "--is-ancestor", older, newer).returncode == 0


def merge_base(repo: Path, a: str, b: str) -> str | None:
    out = _git(repo, "merge-base", a, b)
    found = out.stdout.strip()
    return os.fsdecode(found) if out.returncode == 0 and found else None
