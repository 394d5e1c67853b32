"""Sizes and paths as people read and type them: `50MiB`, `1.5 MiB`, `dir/caf\\xe9.txt`, `docs/*`."""

from __future__ import annotations

import fnmatch
import os
import re

from leakscan.errors import UsageError

_SIZE = re.compile(r"(?i)\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*")


def parse_size(text: str, option: str = "--max-file-size") -> int:
    """`50MiB` -> 52428800 (K, M and G are binary, as in gitleaks' `--max-target-megabytes`)."""
    m = _SIZE.fullmatch(text)
    if not m:
        raise UsageError(f"{option} {text!r} is not a size; use bytes or e.g. 50MiB.")
    unit = (m.group(2) or "b").lower()[0]
    return int(m.group(1)) * {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def display_path(raw: str) -> str:
    """A path as reports show it: undecodable bytes as \\xNN, always `/` separators."""
    shown = raw if raw.isascii() else _backslashed(raw)
    return shown.replace(os.sep, "/") if os.sep != "/" else shown


def _backslashed(raw: str) -> str:
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """Glob match on the relative POSIX path; `*` crosses `/`; `dir/` or `dir` excludes the folder."""
    for pat in patterns:
        stem = pat.rstrip("/")
        if fnmatch.fnmatchcase(path, pat) or fnmatch.fnmatchcase(path, stem + "/*"):
            return True
    return False
