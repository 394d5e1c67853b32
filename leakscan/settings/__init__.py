"""Config, rule files and baseline -> Settings: loaded once per run, then passed down.

`load_settings()` is the one place a command turns what the user asked for into what the scan needs:
the config file that applies (`--config` > `$LEAKSCAN_CONFIG` > `.leakscan.yaml` at the root),
the built-in rules plus the config's and the command line's rule files, compiled once, and the
baseline (`--baseline` > `baseline:` in the config > `.leakscan-baseline.json` at the root).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from leakscan.baseline import file as baseline_file
from leakscan.match.engine import Matcher, compile_matcher
from leakscan.model import ArchiveLimits, BaselineEntry, RuleSet, Severity
from leakscan.settings.builtin import load_builtin
from leakscan.settings.config import (
    DEFAULT_FAIL_ON,
    Config,
    find_org_config,
    find_repo_config,
    in_directory,
    layered,
    load_config,
    parse_fail_on,
)
from leakscan.settings.rules import load_rule_file, merge
from leakscan.suppress import Allowed
from leakscan.units import parse_size

if TYPE_CHECKING:
    from leakscan.model import StrPath
    from leakscan.request import ScanRequest


class Settings(NamedTuple):
    """What a scan needs besides its source."""

    rules: RuleSet
    matcher: Matcher
    allowed: Allowed = Allowed()
    archives: ArchiveLimits = ArchiveLimits()


class Loaded(NamedTuple):
    """Settings and where they came from: the config (for its line in the log) and the baseline."""

    settings: Settings
    config: Config
    baseline: tuple[BaselineEntry, ...] = ()


def load_settings(request: ScanRequest, root: StrPath, *, use_baseline: bool = True) -> Loaded:
    """Everything a scan of `root` is run with."""
    config = load_config_for(request, root)
    known = load_baseline(request, config, root) if use_baseline else ()
    settings = make_settings(config, request, baseline_file.keys(known))
    return Loaded(settings, config, known)


def load_config_for(request: ScanRequest, root: StrPath) -> Config:
    """The org config (--config > $LEAKSCAN_CONFIG) layered over the repository's .leakscan.yaml at
    `root`; either alone as it is; none: the defaults."""
    org_path = find_org_config(request.config_path, dict(os.environ))
    repo_path = find_repo_config(root)
    if org_path and repo_path and os.path.realpath(org_path) != os.path.realpath(repo_path):
        return layered(load_config(org_path), load_config(repo_path))
    return load_config(org_path or repo_path)


def load_baseline(request: ScanRequest, config: Config, root: StrPath) -> tuple[BaselineEntry, ...]:
    """--baseline > `baseline:` in the config > .leakscan-baseline.json at the root, if present."""
    if request.baseline_path:
        return baseline_file.load(request.baseline_path)
    if config.baseline is not None:
        return baseline_file.load(config.baseline)
    if not config.allow_repo_overrides:  # the org config forbids the repository's relaxations
        return ()
    default = in_directory(root, baseline_file.FILE_NAME)
    return baseline_file.load(default) if os.path.isfile(default) else ()


def make_settings(
    config: Config, request: ScanRequest, baseline: frozenset[tuple[str, str]] = frozenset()
) -> Settings:
    rules = load_rules(config.rule_files + request.rule_files)
    matcher = compile_matcher(rules.rules, request.rule_timeout)
    limits = ArchiveLimits(request.max_archive_depth, parse_size(request.max_file_size))
    return Settings(rules, matcher, Allowed(config.allow_secrets, baseline, config.reasons), limits)


def load_rules(files: tuple[StrPath, ...] = ()) -> RuleSet:
    return merge([load_builtin(), *(load_rule_file(p) for p in files)])


def resolve_fail_on(request: ScanRequest, config: Config) -> Severity | None:
    """--fail-on > `fail-on:` in the config > medium; None: nothing fails (`never`)."""
    chosen = request.fail_on or config.fail_on or DEFAULT_FAIL_ON
    return parse_fail_on(chosen, "--fail-on")
