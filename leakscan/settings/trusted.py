"""Trusted policy for scans of commits not trusted yet: `ci github` and `--range` (docs/security.md).

The commits of a pull request can add or change the files that decide what a scan reports and
whether it fails: `.leakscan.yaml`, the rule and baseline files it names, `.leakscan-baseline.json`.
When they do, those files are read as the base commit has them (through the one git runner), so a
pull request cannot silence its own scan; `--trust-config-changes` applies the new ones instead.
Either way the change is said on stderr, in the step summary and in an annotation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from leakscan.baseline.file import FILE_NAME as BASELINE_FILE
from leakscan.settings.config import FILE_NAME, Config, load_config
from leakscan.sources.git import changed_in_range, file_at

if TYPE_CHECKING:
    from leakscan.model import StrPath


class Policy(NamedTuple):
    root: str  # where the repository's config and default baseline are read from
    changed: tuple[str, ...] = ()  # policy files the scanned commits add, change or delete
    base: str | None = None  # the commit whose policy files were used instead; None: not replaced

    def note(self) -> str | None:
        """One sentence for stderr, the step summary and an annotation; None if nothing changed."""
        if not self.changed:
            return None
        files = ", ".join(self.changed)
        if self.base is None:
            return (f"the scanned commits change the scan policy ({files}) and "
                    "--trust-config-changes applied the new version.")  # fmt: skip
        return (f"the scanned commits try to change the scan policy ({files}); it was not applied: "
                f"the policy of the base commit {self.base[:12]} was used instead (pass "
                "--trust-config-changes to apply it once the change is reviewed).")  # fmt: skip


def range_base(spec: str) -> str:
    """`BASE` of `BASE..HEAD` or `BASE...HEAD` (empty when the range has none)."""
    return spec.split("..", 1)[0] if ".." in spec else ""


@contextmanager
def trusted_policy(repo: StrPath, spec: str, *, trust: bool) -> Iterator[Policy]:
    """The directory to read the repository's policy from while the settings load: the repository
    itself, or (when the range changes the policy and it is not trusted) a temporary copy of the
    base commit's policy files."""
    root, base = os.fspath(repo), range_base(spec)
    if not base.strip("0"):  # `..HEAD` or an all-zero base (a new branch): no base to trust
        yield Policy(root)
        return
    changed = changed_in_range(root, spec, policy_files(root))
    if not changed or trust:  # None: no base in the clone, the range scan treats it as a new branch
        yield Policy(root, changed or ())
        return
    with tempfile.TemporaryDirectory(prefix="leakscan-policy-") as tmp:
        copy_policy(root, base, tmp)
        yield Policy(tmp, changed, base)


def policy_files(root: str) -> tuple[str, ...]:
    """The config, the default baseline, and the in-repository files the config names."""
    names = [FILE_NAME, BASELINE_FILE]
    config = os.path.join(root, FILE_NAME)
    if os.path.isfile(config):
        names += _named_inside(load_config(config), root)
    return tuple(dict.fromkeys(names))


def copy_policy(repo: str, base: str, tmp: str) -> None:
    """Write the base commit's config, the files it names and its default baseline into `tmp`."""
    for name in (FILE_NAME, BASELINE_FILE):
        _copy(repo, base, name, tmp)
    config = os.path.join(tmp, FILE_NAME)
    if os.path.isfile(config):
        for name in _named_inside(load_config(config), tmp):
            _copy(repo, base, name, tmp)


def _copy(repo: str, base: str, name: str, tmp: str) -> None:
    data = file_at(repo, base, name)
    if data is None:
        return
    target = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as fh:
        fh.write(data)


def _named_inside(config: Config, root: str) -> list[str]:
    """The rule and baseline files `config` names that lie inside `root`, relative to it (POSIX)."""
    out = []
    for path in (*config.rule_files, *([config.baseline] if config.baseline else [])):
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
        if not rel.startswith(os.pardir):
            out.append(rel.replace(os.sep, "/"))
    return out


def shown_origin(config: Config, policy: Policy) -> Config:
    """The config line names `<base>:.leakscan.yaml`, not the temporary copy."""
    if policy.base is None or not config.origin:
        return config
    return config._replace(
        origin=config.origin.replace(policy.root + os.sep, f"{policy.base[:12]}:")
    )
