"""Matching a container: each member the archive walk yields (sources/archives.py) is matched as any
other content, and its hits carry the member's path; what could not be read in full comes back as
problems, which `content.place` lists as not fully scanned."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from leakscan.sources.archives import Member, Problem, walk

if TYPE_CHECKING:
    from leakscan.scan.content import BlobHits, Hit
    from leakscan.settings import Settings

MAX_PROBLEMS = 20  # problems listed for one file; the rest are counted in one more line


def match_container(
    settings: Settings, data: bytes, match: Callable[[Settings, bytes], BlobHits]
) -> BlobHits:
    """Every member of the container `data`, matched with `match` (content.match_content)."""
    hits = []
    problems: list[Problem] = []
    timeouts: set[str] = set()
    hints: frozenset[str] = frozenset()
    for item in walk(data, settings.archives):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        found = match(settings, item.data)
        hits += [_in_member(h, item) for h in found.hits]
        timeouts.update(found.timeouts)
        hints |= found.hints
    from leakscan.scan.content import BlobHits  # content imports this module

    return BlobHits(tuple(hits), "plain", tuple(sorted(timeouts)), False, hints, _few(problems))


def _in_member(hit: Hit, member: Member) -> Hit:
    encoding = hit.encoding
    if member.encoding != "plain":
        encoding = member.encoding if encoding == "plain" else f"{member.encoding}+{encoding}"
    return hit._replace(member=member.path, notes=member.notes, encoding=encoding)


def _few(problems: list[Problem]) -> tuple[Problem, ...]:
    if len(problems) <= MAX_PROBLEMS:
        return tuple(problems)
    more = len(problems) - MAX_PROBLEMS + 1
    return (*problems[: MAX_PROBLEMS - 1], Problem("", f"{more} more member(s) not fully scanned"))
