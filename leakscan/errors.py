"""One exception hierarchy: each message a sentence a user can act on; console.py exits 2 on it."""

from __future__ import annotations

from collections.abc import Iterable


def quoted_names(names: Iterable[object]) -> str:
    """Names read from a user's file, for a one-line message: sorted, and escaped (a YAML key may
    hold a newline)."""
    return ", ".join(sorted(str(n).encode("unicode_escape").decode("ascii") for n in names))


class LeakscanError(Exception):
    """A scan, a config or a rule file that cannot go on. The message is shown as it is."""

    exit_code = 2


class UsageError(LeakscanError):
    """The command line asks for something that cannot be done."""


class ConfigError(LeakscanError):
    """`.leakscan.yaml` (or `--config`) is malformed."""


class RuleError(LeakscanError):
    """A rule file is malformed: bad YAML, a missing field, a regex that does not compile."""


class SourceError(LeakscanError):
    """The target cannot be read: a missing path, a git failure, a corrupt object."""


class BaselineError(LeakscanError):
    """A baseline file (or a gitleaks / detect-secrets report to import) is missing or malformed."""
