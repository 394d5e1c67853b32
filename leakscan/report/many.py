"""Text of `scan-many` besides the report: the progress line and the list of failed repositories."""

from __future__ import annotations

from leakscan.model import Finding, Skipped
from leakscan.report.text import safe
from leakscan.units import human_size


def progress_line(done: int, total: int, nbytes: int, seconds: float) -> str:
    """`12/40 repositories  1.2 GiB  310.0 MiB/s`."""
    rate = int(nbytes / seconds) if seconds > 0 else 0
    return f"{done}/{total} repositories  {human_size(nbytes)}  {human_size(rate)}/s"


def finished_line(done: int, total: int, name: str, blobs: int, nbytes: int) -> str:
    """One line per finished repository, for logs (`--verbose` when stderr is not a terminal)."""
    return f"leakscan: [{done}/{total}] {safe(name)}: {blobs} blobs, {human_size(nbytes)}"


def failed_lines(failed: tuple[Skipped, ...], total: int) -> list[str]:
    lines = [f"leakscan: error: {len(failed)} of {total} repositories could not be scanned:"]
    lines += [f"leakscan:   {safe(k.path)}: {safe(k.reason)}." for k in failed]
    return lines


def fixed_lines(fixed: tuple[Finding, ...]) -> list[str]:
    """The leaks open after the last run that are no longer at HEAD."""
    if not fixed:
        return []
    lines = [f"leakscan: {len(fixed)} leak(s) open after the last run are no longer at HEAD:"]
    for f in fixed:
        repos = ", ".join(sorted({safe(loc.repository or "") for loc in f.locations}))
        lines.append(f"leakscan:   fixed: {safe(f.preview)} ({safe(f.rule_id)}) in {repos}")
    return lines
