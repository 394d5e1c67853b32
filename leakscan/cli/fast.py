"""The `leakscan` command. A plain `scan` runs without click; everything else goes to the click CLI.

A pre-commit hook pays for every millisecond of start-up on every commit: importing click and building
the options of every command costs more than the whole staged scan (docs/performance.md). So a `scan`
command line made only of the options below, written in their plain forms, is parsed here into the
same `ScanRequest` click builds, and run by the same `commands.scan.run_scan`. Anything else — another
command, `--help`, a combined short flag, `--`, a value that does not convert — goes to click, which
stays the one authority on help and on errors. `tests/test_main.py` holds the two parsers equal.
"""

from __future__ import annotations

import gc
import os
import stat
import sys
from typing import Any, NamedTuple

from leakscan.cli.console import guarded
from leakscan.commands.scan import run_scan
from leakscan.match.engine import DEFAULT_TIMEOUT
from leakscan.request import (
    COLOR_CHOICES,
    DEFAULT_MAX_ARCHIVE_DEPTH,
    DEFAULT_MAX_FILE_SIZE,
    FAIL_ON_CHOICES,
    FORMATS,
    ScanRequest,
)


class Option(NamedTuple):
    """One option of `scan`, as click declares it (`cli.py`)."""

    dest: str
    flags: tuple[str, ...]
    kind: (
        str  # flag | text | path (a file, not a directory) | int | float | choice | ichoice | paths
    )
    default: object = None
    low: float | None = None  # int/float: the smallest value click accepts
    high: float | None = None
    choices: tuple[str, ...] = ()


SCAN_OPTIONS = (
    Option("config_path", ("-c", "--config"), "path"),
    Option("rule_files", ("--rules",), "paths", ()),
    Option("include_ignored", ("--include-ignored",), "flag", False),
    Option("max_file_size", ("--max-file-size",), "text", DEFAULT_MAX_FILE_SIZE),
    Option("rule_timeout", ("--rule-timeout",), "float", DEFAULT_TIMEOUT, low=0.01),
    Option("max_archive_depth", ("--max-archive-depth",), "int", DEFAULT_MAX_ARCHIVE_DEPTH, low=0),
    Option("no_progress", ("--no-progress",), "flag", False),
    Option("verbose", ("-v", "--verbose"), "flag", False),
    Option("quiet", ("-q", "--quiet"), "flag", False),
    Option("history", ("--history",), "flag", False),
    Option("unreachable", ("--unreachable",), "flag", False),
    Option("range_spec", ("--range",), "text"),
    Option("trust_config_changes", ("--trust-config-changes",), "flag", False),
    Option("since", ("--since",), "text"),
    Option("staged", ("--staged",), "flag", False),
    Option("jobs", ("-j", "--jobs"), "int", low=1),
    Option("fetch_missing", ("--fetch-missing",), "flag", False),
    Option("no_fetch", ("--no-fetch",), "flag", False),
    Option("recurse_submodules", ("--recurse-submodules",), "flag", False),
    Option("fmt", ("-f", "--format", "--report-format"), "choice", "text", choices=FORMATS),
    Option("output", ("-o", "--output", "--report-path"), "path"),
    Option("fail_on", ("--fail-on",), "ichoice", choices=FAIL_ON_CHOICES),
    Option("strict", ("--strict",), "flag", False),
    Option("show_secrets", ("--show-secrets",), "flag", False),
    Option("no_color", ("--no-color",), "flag", False),
    Option("color", ("--color",), "choice", "auto", choices=COLOR_CHOICES),
    Option("baseline_path", ("-b", "--baseline"), "path"),
    Option("no_baseline", ("--no-baseline",), "flag", False),
    Option("report_stale", ("--report-stale",), "flag", False),
    Option("verify", ("--verify",), "flag", False),
    Option("verify_timeout", ("--verify-timeout",), "float", 5.0, low=0.01),
    Option("verify_max_requests", ("--verify-max-requests",), "int", 100, low=0),
    Option("verify_concurrency", ("--verify-concurrency",), "int", 4, low=1, high=16),
    Option("stripe_context", ("--stripe-context",), "text"),
    Option("redact", ("--redact",), "flag", False),  # gitleaks' flag; a note, no effect
)
_BY_FLAG = {flag: option for option in SCAN_OPTIONS for flag in option.flags}


def main() -> None:
    parsed = parse_scan(sys.argv[1:])
    if parsed is None:
        # click and every command's options, only when click has work to do (~40 ms)
        from leakscan.cli.app import main as click_main

        click_main()
        return
    gc.freeze()  # what the imports made lives to the end: no collection walks it, no worker copies it
    code = guarded(lambda: run_scan(parsed))
    gc.freeze()  # nor on the way out: the collection at exit walked every object, ~5 ms
    sys.exit(code)


def parse_scan(argv: list[str]) -> ScanRequest | None:
    """`scan [OPTIONS] [PATHS]` -> the request exactly as click parses it; None for click to do."""
    if not argv or argv[0] != "scan":
        return None
    opts: dict[str, Any] = {o.dest: o.default for o in SCAN_OPTIONS}  # checked by the table
    rule_files: list[str] = []
    paths: list[str] = []
    args = iter(argv[1:])
    for arg in args:
        if not arg.startswith("-") or arg == "-":
            if not _path_ok(arg, dir_okay=True):
                return None
            paths.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        option = _BY_FLAG.get(name)
        if option is None or (eq and (option.kind == "flag" or not name.startswith("--"))):
            return None
        if option.kind == "flag":
            opts[option.dest] = True
            continue
        text = inline if eq else next(args, None)
        value = None if text is None or text.startswith("-") else _convert(option, text)
        if value is None:
            return None
        if option.kind == "paths":
            rule_files.append(str(value))
        else:
            opts[option.dest] = value
    if rule_files:
        opts["rule_files"] = tuple(rule_files)
    return ScanRequest(paths=tuple(paths), **opts)


def _convert(option: Option, text: str) -> object | None:
    """The value click would give the command, or None where click might refuse it (it says why)."""
    if option.kind in ("int", "float"):
        try:
            number = int(text) if option.kind == "int" else float(text)
        except ValueError:
            return None
        low = option.low if option.low is not None else number
        high = option.high if option.high is not None else number
        return number if low <= number <= high else None
    if option.kind == "choice":
        return text if text in option.choices else None
    if option.kind == "ichoice":
        if not text.isascii():
            return None
        return text.lower() if text.lower() in option.choices else None
    if option.kind in ("path", "paths") and not _path_ok(text, dir_okay=False):
        return None
    return text


def _path_ok(text: str, *, dir_okay: bool) -> bool:
    """What click.Path (exists=False, readable=True) accepts: a missing path, or a readable one."""
    try:
        st = os.stat(text)
    except (OSError, ValueError):
        return True
    if not dir_okay and stat.S_ISDIR(st.st_mode):
        return False  # click: "is a directory"
    return os.access(text, os.R_OK)  # click: "is not readable"
