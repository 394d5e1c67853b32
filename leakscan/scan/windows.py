"""Composition: each secret's exposure window in a history scan, from the attribution walk's changes
(no second walk), HEAD's author date, the default branch and which refs reach each commit (one
commit-graph walk). The reading of the window itself is exposure.py's; the git I/O is sources/'s."""

from __future__ import annotations

from leakscan import exposure
from leakscan.fingerprint import secret_sha256
from leakscan.model import Exposure
from leakscan.scan.blobs import BlobScan
from leakscan.sources.attribution import Walk, author_date, default_branch, ref_reach
from leakscan.sources.history import Repo
from leakscan.units import excluded


def exposure_windows(
    repo: Repo,
    scanned: BlobScan,
    walk: Walk,
    at_head: set[str],
    head: str | None,
    excludes: tuple[str, ...],
) -> dict[str, Exposure]:
    """Each secret's exposure window, by sha256; `at_head`: the raw secrets HEAD's tree holds."""
    holders: dict[str, set[str]] = {}
    for oid, blob_hits in scanned.hits.items():
        for hit in blob_hits.hits:
            holders.setdefault(hit.secret, set()).add(oid)
    if not holders:
        return {}
    by_blob: dict[str, list[int]] = {}
    for i, change in enumerate(walk.changes):
        if not excluded(change.path, excludes):
            by_blob.setdefault(change.oid, []).append(i)
    head_date = author_date(repo, head) if head else None
    default = default_branch(repo)
    reach = ref_reach(repo)
    out: dict[str, Exposure] = {}
    for secret, oids in holders.items():
        changes = [walk.changes[i] for i in sorted(i for o in oids for i in by_blob.get(o, ()))]
        found = exposure.window(changes, secret in at_head, head, head_date)
        if found is None:
            continue
        refs = reach.refs_of(c.commit for c in changes if c.added)
        out[secret_sha256(secret)] = found._replace(refs=refs, default_branch=default)
    return out
