"""The `allow` command: allow one known secret by hash, with the reason, in the config (triage).

`leakscan allow 1a2b3c4d5e6f --reason "Stripe's test key in the docs"` takes the short hash the
text report shows for each finding (or a whole secret_sha256), finds the one finding of the scan it
names, and adds `{sha256, reason}` to `allow-secrets` in the repository's `.leakscan.yaml` (or the
file `--config` names), keeping the file's comments and layout. Later scans show the reason.
"""

from __future__ import annotations

import os
import re

from leakscan.atomic import write_atomically
from leakscan.cli.console import echo
from leakscan.commands.scan import scan_sources
from leakscan.errors import ConfigError, UsageError
from leakscan.request import ScanRequest
from leakscan.settings.allowlist import add_allowed
from leakscan.settings.config import FILE_NAME, in_directory, load_config
from leakscan.sources import worktree
from leakscan.sources.files import read_user_file

_HASH = re.compile(r"[0-9a-f]{6,64}")
FULL = 64


def run_allow(request: ScanRequest, finding: str, reason: str) -> int:
    wanted = finding.strip().lower()
    if not _HASH.fullmatch(wanted):
        raise UsageError(
            "FINDING is the hash the text report shows for a finding (`hash 1a2b3c4d5e6f`) or a "
            "whole secret_sha256 from the JSON report, never the key itself."
        )
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("--reason must say why this secret may stay (it is shown with it).")
    root = worktree.plan(list(request.paths), os.getcwd()).root
    target = request.config_path or in_directory(root, FILE_NAME)
    digest, label = (wanted, wanted[:12]) if len(wanted) == FULL else _find(request, wanted)
    text = _read(target)
    if text and digest in load_config(target).allow_secrets:
        echo(f"leakscan: {label} is already allowed in {target}; nothing changed.", err=True)
        return 0
    write_atomically(target, add_allowed(text, target, digest, reason))
    echo(f"leakscan: allowed {label} in {target} (reason: {reason}).", err=True)
    return 0


def _find(request: ScanRequest, prefix: str) -> tuple[str, str]:
    """The one finding of the scan whose secret_sha256 starts with `prefix`: (hash, preview)."""
    scanned = scan_sources(request, use_baseline=False)
    found = {f.secret_sha256: f.preview for f in scanned.result.findings
             if f.secret_sha256.startswith(prefix)}  # fmt: skip
    if not found:
        raise UsageError(
            f"no finding of this scan has a hash starting with {prefix}; run `allow` with the "
            "same target and options as the report (e.g. --history), or pass the whole "
            "secret_sha256."
        )
    if len(found) > 1:
        raise UsageError(f"{len(found)} findings have a hash starting with {prefix}; pass more "
                         "of it (the JSON report's secret_sha256 has all 64 characters).")  # fmt: skip
    ((digest, preview),) = found.items()
    return digest, f"{preview} ({digest[:12]})"


def _read(path: str) -> str:
    if not os.path.exists(path):
        return ""
    return read_user_file(path, "config file", ConfigError)
