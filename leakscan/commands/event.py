"""What a CI run should scan, worked out from the GitHub event that started it (DESIGN §8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import SourceError, UsageError
from leakscan.sources import history

if TYPE_CHECKING:
    from typing import Any

    from leakscan.sources.history import Repo

MODES = ("auto", "history", "range", "tree")
SHALLOW = (
    "this checkout is shallow, so the commits to scan are not all here; set `fetch-depth: 0` on "
    "actions/checkout (or run `git fetch --unshallow`) and run again."
)


class Target(NamedTuple):
    """What to scan: the working tree, the whole history, base..head, or nothing at all."""

    mode: str  # tree | history | range | none
    base: str | None = None
    head: str | None = None
    reason: str = ""

    @property
    def range(self) -> str:
        return f"{self.base}..{self.head}"


def load_event(path: str | None) -> dict[str, Any]:
    """The event payload GitHub wrote to $GITHUB_EVENT_PATH ({} when there is none)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read the GitHub event file ({exc}).") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the GitHub event file is not a JSON object.")
    return data


def choose(
    path: Path,
    event_name: str,
    event: dict[str, Any],
    *,
    mode: str = "auto",
    base: str | None = None,
    head: str | None = None,
) -> Target:
    if mode not in MODES:
        raise UsageError(f"mode {mode!r} is not one of {', '.join(MODES)}.")
    if mode == "tree":
        return Target("tree", reason="the working tree (mode: tree)")
    try:
        repo = history.open_repo(path)
    except SourceError:
        raise SourceError(
            f"{path}: not a git repository; check out the code first (actions/checkout)."
        ) from None
    if repo.shallow:
        raise SourceError(SHALLOW)
    if mode == "history":
        return Target("history", reason="the whole history (mode: history)")
    if mode == "range" or base:
        derived = _from_event(repo, event_name, event)
        base = base or derived.base
        head = head or derived.head or "HEAD"
        if not base:
            raise UsageError(f"mode range needs a base commit, and a {event_name or 'local'} event "
                             "does not name one; set the `base` input.")  # fmt: skip
        return Target("range", _need(repo, base, "base"), _need(repo, head, "head"),
                      f"{base}..{head} (mode: range)")  # fmt: skip
    return _from_event(repo, event_name, event)


def _from_event(repo: Repo, name: str, event: dict[str, Any]) -> Target:
    if name == "push":
        return _push(repo, event)
    if name in ("pull_request", "pull_request_target"):
        pr = event.get("pull_request") or {}
        base, head = (pr.get("base") or {}).get("sha"), (pr.get("head") or {}).get("sha")
        return Target("range", _need(repo, base, "base"), _need(repo, head, "head"),
                      f"pull request: the commits of {str(head)[:12]} not in {str(base)[:12]}")  # fmt: skip
    if name == "merge_group":
        group = event.get("merge_group") or {}
        base, head = group.get("base_sha"), group.get("head_sha")
        return Target("range", _need(repo, base, "base"), _need(repo, head, "head"),
                      "merge queue: the commits of the merge group")  # fmt: skip
    return Target("history", reason=f"the whole history ({name or 'no'} event)")


def _push(repo: Repo, event: dict[str, Any]) -> Target:
    if event.get("deleted"):
        return Target("none", reason="push that deleted a branch: nothing to scan")
    head = _need(repo, event.get("after"), "after")
    before = str(event.get("before") or "")
    if before.strip("0") == "":
        return _new_branch(repo, event, head, "push of a new branch")
    old = history.resolve_commit(repo, before)
    if old is None:
        return _new_branch(repo, event, head, "force push whose old head is not in this clone")
    if not history.is_ancestor(repo, old, head):
        return Target(
            "range", old, head, f"force push: the commits of {head[:12]} not in {old[:12]}"
        )
    return Target("range", old, head, f"push: {old[:12]}..{head[:12]}")


def _new_branch(repo: Repo, event: dict[str, Any], head: str, why: str) -> Target:
    """From where the branch left the default branch, or the whole history if it never did."""
    default = (event.get("repository") or {}).get("default_branch")
    pushed = str(event.get("ref") or "").removeprefix("refs/heads/")
    if default and pushed != default:
        tip = history.resolve_commit(
            repo, f"refs/remotes/origin/{default}"
        ) or history.resolve_commit(repo, default)
        fork = history.merge_base(repo, tip, head) if tip else None
        if fork:
            return Target("range", fork, head, f"{why}: the commits not on {default}")
    return Target("history", reason=f"{why}: the whole history of {head[:12]}")


def _need(repo: Repo, rev: object, what: str) -> str:
    found = history.resolve_commit(repo, str(rev)) if rev else None
    if found is None:
        raise SourceError(f"the {what} commit {str(rev)[:40]!r} is not in this clone; set "
                          "`fetch-depth: 0` on actions/checkout so every commit is fetched.")  # fmt: skip
    return found
