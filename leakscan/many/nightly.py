"""`scan-many --state`: what a nightly run reports. An incremental run reads only new commits, so on
its own it would forget the keys still in the code from earlier runs. The state remembers the open
findings (at HEAD); each run re-checks them (`task.still_at_head`) and reports every finding with a
status — `new`, or `open` (reported by an earlier run and still at HEAD) — and the ones `fixed`
since the last run (open then, at HEAD no longer).

Pure: findings and names in, findings out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from leakscan.findings import merge_findings
from leakscan.model import Finding, Location
from leakscan.settings import Settings
from leakscan.suppress import by_hash

Pairs = tuple[tuple[str, str], ...]
NEW, OPEN = "new", "open"


class Carried(NamedTuple):
    findings: tuple[Finding, ...]  # the report's: this run's and the remembered still-open ones
    still_open: tuple[Finding, ...]  # for the state: at HEAD now (or unknown: repository failed)
    fixed: tuple[Finding, ...]  # open after the last run, at HEAD no longer


def recheck_places(remembered: Iterable[Finding], name: str) -> Pairs:
    """(commit, path) of the remembered open findings' locations in repository `name`."""
    return tuple(sorted({(loc.commit, loc.path) for f in remembered for loc in f.locations
                         if loc.repository == name and loc.commit}))  # fmt: skip


def carry(
    settings: Settings,
    remembered: Iterable[Finding],
    found: Iterable[Finding],
    run: tuple[Collection[str], Collection[str]],
    at_head: Mapping[str, Collection[tuple[str, str]]],
) -> Carried:
    """`run`: the names of the repositories scanned now, and of those that failed. A remembered
    location in a scanned repository stays open if its blob is still at HEAD; in a failed one it
    stays open (nobody could look) and is reported; in a repository this run did not list it is
    kept in the state, unreported."""
    scanned, failed = run
    known = {r.id for r in settings.rules.rules}
    old = [f for f in remembered if f.rule_id in known]
    reported: list[Finding] = []
    kept: list[Finding] = []
    for f in old:
        shown = [loc for loc in f.locations if _open(loc, scanned, failed, at_head)]
        silent = [loc for loc in f.locations
                  if loc.repository not in scanned and loc.repository not in failed]  # fmt: skip
        f = _refreshed(f, settings)
        if shown:
            reported.append(f._replace(locations=tuple(shown)))
        if shown or silent:
            kept.append(f._replace(locations=(*shown, *silent)))
    found = tuple(found)
    rules = settings.rules
    still_open = merge_findings(rules, [kept, [f for f in found if f.present_at_head]])
    ids = {_id(f) for f in old}
    report = merge_findings(rules, [found, reported])
    now = {_id(f) for f in still_open}
    return Carried(
        tuple(f._replace(status=OPEN if _id(f) in ids else NEW) for f in report),
        tuple(f._replace(secret="", status=None) for f in still_open),
        tuple(f for f in old if _id(f) not in now),
    )


def _open(
    loc: Location,
    scanned: Collection[str],
    failed: Collection[str],
    at_head: Mapping[str, Collection[tuple[str, str]]],
) -> bool:
    if loc.repository in failed:
        return True
    if loc.repository is None or loc.repository not in scanned:
        return False
    return (loc.commit, loc.path) in at_head.get(loc.repository, ())


def _refreshed(f: Finding, settings: Settings) -> Finding:
    """Today's config and baseline decide whether a remembered finding is suppressed."""
    if f.suppressed is not None and f.suppressed.kind == "inline":
        return f
    return f._replace(suppressed=by_hash(f.rule_id, f.secret_sha256, settings.allowed))


def _id(f: Finding) -> tuple[str, str]:
    return f.rule_id, f.secret_sha256
