"""One exception hierarchy. Every message is a sentence a user can act on; cli.py maps it to exit 2."""

from __future__ import annotations


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
