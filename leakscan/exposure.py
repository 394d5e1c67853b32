"""Pure: a secret's exposure window, read from the changes of the attribution walk (when it was added,
when it was removed, how many days lay between), and what that window implies for the response.

The walk (sources/attribution.py) lists, oldest first in topological order, every commit that put a
matched blob at a path or took it away, each diffed against its first parent. A secret is held while
some (path, blob) holding it is in place; the commit after which none is, is its removal (the last
such, if it came back). On a history whose branches each add and remove the same key the window is
read along that one topological order, an approximation that docs/decisions.md describes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from leakscan.model import Change, Exposure

TAG_PREFIX = "refs/tags/"
SHIPPED_IN_TAG = (
    "It was in a release tag: treat it as public, since every clone and download of that release "
    "has it, and rotate it now."
)
ON_DEFAULT_BRANCH = "It reached the default branch ({branch}): every clone made since has it."


def window(
    changes: Sequence[Change], at_head: bool, head: str | None, head_date: str | None
) -> Exposure | None:
    """The exposure window of one secret from the changes of the blobs that hold it (walk order);
    None when the walk saw no commit add it (a blob in no commit)."""
    held: set[tuple[str, str]] = set()
    first: Change | None = None
    removed: Change | None = None
    for _, group in itertools.groupby(changes, key=lambda c: c.commit):
        batch = list(group)
        for c in batch:
            if c.added:
                held.add((c.path, c.oid))
            else:
                held.discard((c.path, c.oid))
        if first is None:
            first = next((c for c in batch if c.added), None)
        if first is not None:
            removed = None if held else batch[0]
    if first is None:
        return None
    if at_head:
        removed = None
    last = removed.parent if removed is not None else head if at_head else None
    end = removed.author_date if removed is not None else head_date
    return Exposure(
        introduced=first.commit,
        introduced_date=first.author_date,
        last_present=last,
        removed=removed.commit if removed is not None else None,
        removed_date=removed.author_date if removed is not None else None,
        days=days_between(first.author_date, end),
        at_head=at_head,
    )


def days_between(start: str, end: str | None) -> int:
    """Whole days from one ISO 8601 date to another (0 when either is missing or unreadable)."""
    if end is None:
        return 0
    from datetime import datetime  # history reports only: a tree scan does without it (~3 ms)

    try:
        seconds = (
            datetime.fromisoformat(end).timestamp() - datetime.fromisoformat(start).timestamp()
        )
    except ValueError:
        return 0
    return max(0, int(seconds // 86400))


def merge(a: Exposure | None, b: Exposure | None) -> Exposure | None:
    """One window of a secret found in several parts (scan-many's shards and repositories): the
    earliest introduction, still at HEAD if it is anywhere, else the latest removal; every ref."""
    if a is None or b is None:
        return a or b
    first = min(a, b, key=lambda e: _stamp(e.introduced_date))
    last = max(a, b, key=lambda e: _stamp(e.removed_date or ""))
    at_head = a.at_head or b.at_head
    gone = None if at_head else last
    span = days_between(first.introduced_date, gone.removed_date) if gone else 0
    return first._replace(
        last_present=None if gone is None else gone.last_present,
        removed=None if gone is None else gone.removed,
        removed_date=None if gone is None else gone.removed_date,
        days=max(a.days, b.days, span),
        at_head=at_head,
        refs=tuple(sorted(set(a.refs) | set(b.refs))),
        default_branch=a.default_branch or b.default_branch,
    )


def _stamp(date: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(date).timestamp()
    except ValueError:
        return 0.0


def tags(e: Exposure) -> list[str]:
    """Short names of the tags that reach the secret, in the order git sorted them (versions)."""
    return [r.removeprefix(TAG_PREFIX) for r in e.refs if r.startswith(TAG_PREFIX)]


def shipped(e: Exposure) -> bool:
    """A release tag or the default branch reaches it: it went out with the code."""
    return bool(tags(e)) or (e.default_branch is not None and e.default_branch in e.refs)


def implication(e: Exposure | None) -> str:
    """The sentence a remediation starts with: what the window means for the response."""
    if e is None:
        return ""
    if tags(e):
        return SHIPPED_IN_TAG
    if e.default_branch is not None and e.default_branch in e.refs:
        return ON_DEFAULT_BRANCH.format(branch=short_ref(e.default_branch))
    return ""


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", TAG_PREFIX, "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def summary(e: Exposure) -> str:
    """One line: `exposed 412 days, in tags v2.1.0…v2.4.3, removed in a1b2c3d`."""
    span = "less than a day" if e.days == 0 else f"{e.days} day{'' if e.days == 1 else 's'}"
    parts = [f"exposed {span} from {e.introduced_date[:10]}"]
    names = tags(e)
    if names:
        span = names[0] if len(names) == 1 else f"{names[0]}…{names[-1]} ({len(names)})"
        parts.append(f"in tag{'s' if len(names) > 1 else ''} {span}")
    branches = [short_ref(r) for r in e.refs if not r.startswith(TAG_PREFIX)]
    if branches:
        more = f" and {len(branches) - 3} more" if len(branches) > 3 else ""
        parts.append(f"on {', '.join(branches[:3])}{more}")
    if e.at_head:
        parts.append("still at HEAD")
    elif e.removed:
        parts.append(f"removed in {e.removed[:12]} ({(e.removed_date or '')[:10]})")
    else:
        parts.append("never removed from the branch that has it")
    return ", ".join(parts)
