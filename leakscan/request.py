"""What the user asked for: one typed, frozen request, built by either parser of the command line.

`cli/fast.py` (the click-free `scan`) and `cli/app.py` (click) both build a `ScanRequest`; every
command below the CLI reads its fields and nothing else. Commands that take fewer options than
`scan` (`baseline`, `scan-many`, `ci github`, `hook pre-push`) leave the rest at their defaults.
"""

from __future__ import annotations

from typing import NamedTuple

from leakscan.match.engine import DEFAULT_TIMEOUT

DEFAULT_MAX_FILE_SIZE = "50MiB"
DEFAULT_MAX_ARCHIVE_DEPTH = 8
FORMATS = ("text", "json", "sarif", "github", "gitleaks-json", "csv", "junit", "html", "gitlab")
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")
COLOR_CHOICES = ("auto", "always", "never")


class ScanRequest(NamedTuple):
    """One scan: what to read, with which settings, and how to report it (the `scan` options).
    A NamedTuple like every other record: a dataclass would import `dataclasses` and `inspect`,
    ~7 ms of a ~60 ms pre-commit scan. Build it with keywords."""

    paths: tuple[str, ...] = ()
    # settings
    config_path: str | None = None
    rule_files: tuple[str, ...] = ()
    include_ignored: bool = False
    max_file_size: str = DEFAULT_MAX_FILE_SIZE  # as typed; `units.parse_size` reads it
    rule_timeout: float = DEFAULT_TIMEOUT
    max_archive_depth: int = DEFAULT_MAX_ARCHIVE_DEPTH  # containers in containers; 0: none opened
    no_progress: bool = False
    verbose: bool = False
    quiet: bool = False
    # source
    history: bool = False
    unreachable: bool = False
    range_spec: str | None = None
    trust_config_changes: bool = False  # a range's own changes to the scan policy are applied
    since: str | None = None
    staged: bool = False
    jobs: int | None = None  # None: as many as the scan can use
    fetch_missing: bool = (
        False  # a partial clone: download its missing objects (one fetch), scan them
    )
    no_fetch: bool = False  # the default said explicitly: missing objects stop the scan (exit 2)
    recurse_submodules: bool = False  # --history: also each local submodule's history
    # report
    fmt: str = "text"
    output: str | None = None
    fail_on: str | None = None  # None: the config's, then medium
    strict: bool = False  # any skipped file, blob or submodule makes the scan exit 2
    show_secrets: bool = False
    no_color: bool = False  # same as color="never"
    color: str = "auto"  # auto: a terminal, unless NO_COLOR (commands/scan.py:use_color)
    redact: bool = False  # gitleaks' flag, accepted and ignored: redaction is the default
    # baseline
    baseline_path: str | None = None
    no_baseline: bool = False
    report_stale: bool = False
    # verification
    verify: bool = False
    verify_timeout: float = 5.0
    verify_max_requests: int = 100
    verify_concurrency: int = 4
    stripe_context: str | None = None
