"""`.leakscan.yaml`: path excludes, extra rule files, fail-on, allowlisted secret hashes, baseline.

Two layers (docs/config.md): an organisation's config (`--config`, else `LEAKSCAN_CONFIG`) and the
repository's own `.leakscan.yaml` at the scanned root. When both exist they combine (`layered`):
allow lists and excludes add up, rule files add up, the stricter `fail-on` wins, and an org config
with `allow-repo-overrides: false` drops the repository's relaxations (allows, excludes, baseline).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import ConfigError, quoted_names
from leakscan.model import Severity
from leakscan.sources.files import read_user_file

if TYPE_CHECKING:
    from typing import Any

    from leakscan.model import StrPath

FILE_NAME = ".leakscan.yaml"
DEFAULT_FAIL_ON = "medium"  # what applies when neither the flag nor a config sets fail-on
ENV_VAR = "LEAKSCAN_CONFIG"
_FIELDS = ("fail-on", "exclude-paths", "allow-secrets", "rules", "baseline", "allow-repo-overrides")
RELAXATIONS = ("allow-secrets", "exclude-paths", "baseline")  # what an org can forbid a repo
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Config(NamedTuple):
    fail_on: str | None = None  # a validated --fail-on value; None: the flag or the default decides
    exclude_paths: tuple[str, ...] = ()
    allow_secrets: frozenset[str] = frozenset()
    rule_files: tuple[str, ...] = ()  # relative ones are joined to the config file's directory
    baseline: str | None = None
    origin: str | None = None  # the file it came from (both, joined by ` + `, when layered)
    allow_repo_overrides: bool = True  # False: the repository's relaxations are not applied
    reasons: tuple[tuple[str, str], ...] = ()  # (secret_sha256, why it is allowed), as written
    ignored: tuple[str, ...] = ()  # the repository's settings an org config forbade


def find_org_config(flag: str | None, env: dict[str, str]) -> str | None:
    return flag or env.get(ENV_VAR) or None


def find_repo_config(root: StrPath) -> str | None:
    candidate = in_directory(root, FILE_NAME)
    return candidate if os.path.isfile(candidate) else None


def layered(org: Config, repo: Config) -> Config:
    """The org config and the repository's combined: lists add up, the stricter fail-on wins;
    with `allow-repo-overrides: false` in the org config, the repository's relaxations are dropped."""
    allowed = org.allow_repo_overrides
    relaxes = [name for name, value in zip(RELAXATIONS, (repo.allow_secrets, repo.exclude_paths,
               repo.baseline)) if value]  # fmt: skip
    fail_on = stricter(org.fail_on, repo.fail_on)
    floor = org.fail_on or DEFAULT_FAIL_ON
    if not allowed and repo.fail_on and stricter(floor, repo.fail_on) != repo.fail_on:
        fail_on = org.fail_on  # the repository's looser fail-on is a relaxation too
        relaxes.insert(0, "fail-on")
    return Config(
        fail_on=fail_on,
        exclude_paths=org.exclude_paths + (repo.exclude_paths if allowed else ()),
        allow_secrets=org.allow_secrets | (repo.allow_secrets if allowed else frozenset()),
        rule_files=org.rule_files + repo.rule_files,
        baseline=org.baseline or (repo.baseline if allowed else None),
        origin=f"{org.origin} + {repo.origin}",
        allow_repo_overrides=allowed,
        reasons=org.reasons + (repo.reasons if allowed else ()),
        ignored=() if allowed else tuple(relaxes),
    )


def stricter(a: str | None, b: str | None) -> str | None:
    """Of two fail-on values, the one that fails on more (`never` fails on nothing)."""
    if a is None or b is None:
        return a or b
    sa, sb = parse_fail_on(a, "fail-on"), parse_fail_on(b, "fail-on")
    if sa is None or sb is None:
        return b if sa is None else a
    return a if sa <= sb else b


def in_directory(directory: StrPath, name: str) -> str:
    """`directory/name`, or `name` alone in the current directory (`.leakscan.yaml`, not
    `./.leakscan.yaml`, as pathlib wrote it): the form messages and the config line show."""
    directory = os.fspath(directory)
    return name if directory in ("", os.curdir) else os.path.join(directory, name)


def load_config(path: StrPath | None) -> Config:
    if path is None:
        return Config()
    path = os.fspath(path)
    text = read_user_file(path, "config file", ConfigError)
    import yaml

    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: the config file is not valid YAML{where}.") from None
    return parse_config(doc if doc is not None else {}, path)


def parse_config(doc: Any, path: StrPath) -> Config:
    path = os.fspath(path)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the config must be a mapping of settings.")
    unknown = [k for k in doc if k not in _FIELDS]
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {quoted_names(unknown)} (known: {', '.join(_FIELDS)})."
        )
    fail_on = None
    if doc.get("fail-on") is not None:
        fail_on = str(doc["fail-on"]).strip().lower()
        parse_fail_on(fail_on, f"{path}: fail-on")
    reasons = _allow_entries(doc, path)
    overrides = doc.get("allow-repo-overrides", True)
    if not isinstance(overrides, bool):
        raise ConfigError(f"{path}: `allow-repo-overrides` must be true or false.")
    base = os.path.dirname(path)
    baseline = doc.get("baseline")
    return Config(
        fail_on=fail_on,
        exclude_paths=_strings(doc, "exclude-paths", path),
        allow_secrets=frozenset(h for h, _ in reasons),
        rule_files=tuple(in_directory(base, p) for p in _strings(doc, "rules", path)),
        baseline=in_directory(base, str(baseline)) if baseline else None,
        origin=path,
        allow_repo_overrides=overrides,
        reasons=tuple((h, why) for h, why in reasons if why),
    )


def _allow_entries(doc: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """`allow-secrets`: hashes, or `{sha256: HASH, reason: TEXT}` (what `leakscan allow` writes)."""
    value = doc.get("allow-secrets") or []
    if not isinstance(value, list):
        raise ConfigError(f"{path}: `allow-secrets` must be a list.")
    out = []
    for item in value:
        if isinstance(item, dict):
            digest, reason = item.get("sha256"), item.get("reason") or ""
        else:
            digest, reason = item, ""
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ConfigError(
                f"{path}: allow-secrets takes lower-case sha256 hex digests (secret_sha256 in the "
                "JSON report, or `leakscan allow`), not raw keys."
            )
        if not isinstance(reason, str):
            raise ConfigError(f"{path}: an allow-secrets `reason` must be text.")
        out.append((digest, " ".join(reason.split())))
    return out


def parse_fail_on(text: str, where: str) -> Severity | None:
    """`never` -> None (nothing fails); otherwise a severity."""
    if text.strip().lower() == "never":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}, or never.") from None


def _strings(doc: dict[str, Any], name: str, path: str) -> tuple[str, ...]:
    value = doc.get(name) or []
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigError(f"{path}: `{name}` must be a list.")
    if any(isinstance(v, (list, dict)) for v in value):  # never str() one: a YAML bomb is huge
        raise ConfigError(f"{path}: `{name}` must be a list of strings.")
    return tuple(str(v) for v in value)
