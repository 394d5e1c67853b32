"""`.leakscan.yaml`: path excludes, extra rule files, fail-on, allowlisted secret hashes, baseline.

Found through `--config` > `LEAKSCAN_CONFIG` > `.leakscan.yaml` at the scanned repository's root.
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
ENV_VAR = "LEAKSCAN_CONFIG"
_FIELDS = ("fail-on", "exclude-paths", "allow-secrets", "rules", "baseline")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Config(NamedTuple):
    fail_on: str | None = None  # a validated --fail-on value; None: the flag or the default decides
    exclude_paths: tuple[str, ...] = ()
    allow_secrets: frozenset[str] = frozenset()
    rule_files: tuple[str, ...] = ()  # relative ones are joined to the config file's directory
    baseline: str | None = None
    origin: str | None = None  # the file it came from


def find_config(flag: str | None, env: dict[str, str], root: StrPath) -> str | None:
    if flag:
        return flag
    if env.get(ENV_VAR):
        return env[ENV_VAR]
    candidate = in_directory(root, FILE_NAME)
    return candidate if os.path.isfile(candidate) else None


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
    allow = _strings(doc, "allow-secrets", path)
    bad = [h for h in allow if not _SHA256.fullmatch(h)]
    if bad:
        raise ConfigError(
            f"{path}: allow-secrets takes lower-case sha256 hex digests (secret_sha256 in the JSON "
            "report), not raw keys."
        )
    base = os.path.dirname(path)
    baseline = doc.get("baseline")
    return Config(
        fail_on=fail_on,
        exclude_paths=_strings(doc, "exclude-paths", path),
        allow_secrets=frozenset(allow),
        rule_files=tuple(in_directory(base, p) for p in _strings(doc, "rules", path)),
        baseline=in_directory(base, str(baseline)) if baseline else None,
        origin=path,
    )


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
