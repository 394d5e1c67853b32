"""`scan-many -o DIR --format sarif`: one SARIF log per repository, ready for one upload each.

Code scanning takes an upload per repository, with paths relative to that repository's root: a
merged log puts every repository's findings under one `%SRCROOT%`. Each log here holds the findings
with a location in its repository (only those locations), `versionControlProvenance` naming the
repository and the commit HEAD was at, and is valid on its own (report/sarif.py builds it).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import sarif_om as om

from leakscan.model import RuleSet, ScanResult, ScanSummary
from leakscan.report import sarif
from leakscan.report.options import RenderOptions


class Repository(NamedTuple):
    name: str  # how locations name it (`Location.repository`)
    uri: str  # a clone URL without its password, or a file: URI of the local path
    revision: str | None  # the commit HEAD was at when it was scanned


def per_repository(
    result: ScanResult, rules: RuleSet, options: RenderOptions, repos: list[Repository]
) -> dict[str, str]:
    """File name -> SARIF text, one per repository (in the order given)."""
    out: dict[str, str] = {}
    for repo in repos:
        log = sarif.build_log(_only(result, repo.name), rules, options)
        log.runs[0].version_control_provenance = [
            om.VersionControlDetails(
                repository_uri=repo.uri,
                revision_id=repo.revision,
                mapped_to=om.ArtifactLocation(uri_base_id=sarif.SRCROOT),
            )
        ]
        out[file_name(repo.name, out)] = sarif.serialize(log) + "\n"
    return out


def _only(result: ScanResult, name: str) -> ScanResult:
    """The findings of one repository, each with only its locations there."""
    findings = []
    for f in result.findings:
        here = tuple(loc._replace(repository=None) for loc in f.locations if loc.repository == name)
        if here:
            findings.append(f._replace(locations=here))
    prefix = f"{name}: "
    skipped = tuple(k._replace(path=k.path.removeprefix(prefix)) for k in result.summary.skipped
                    if k.path.startswith(prefix) or k.path == name)  # fmt: skip
    s = result.summary
    summary = ScanSummary(name, s.mode, 0, 0, 0, skipped)
    return ScanResult(summary, tuple(findings))


def file_name(name: str, taken: dict[str, str]) -> str:
    """`github.com_acme_api.sarif`: the repository's name made safe for a file name, and unique."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.split("://", 1)[-1]).strip("._") or "repository"
    candidate, n = f"{stem}.sarif", 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}.sarif", n + 1
    return candidate
