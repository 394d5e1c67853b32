"""Pure predicates: is this occurrence or this secret suppressed, and why."""

from __future__ import annotations

from typing import NamedTuple

from leakscan.model import Suppression


class Allowed(NamedTuple):
    """Secrets suppressed by hash: the config's allow-list and the baseline's (rule, hash) pairs."""

    secrets: frozenset[str] = frozenset()
    baseline: frozenset[tuple[str, str]] = frozenset()
    reasons: tuple[tuple[str, str], ...] = ()  # (hash, reason) of allow entries that give one


INLINE_MARKERS = ("leakscan:allow", "gitleaks:allow", "pragma: allowlist secret")


def inline(line: str) -> Suppression | None:
    """An allow comment anywhere on the key's own line."""
    for marker in INLINE_MARKERS:
        if marker in line:
            return Suppression("inline", f"`{marker}` on the line")
    return None


def by_hash(rule_id: str, sha256: str, allowed: Allowed) -> Suppression | None:
    """A secret allowlisted by hash in the config, or known to the baseline."""
    if sha256 in allowed.secrets:
        why = next((reason for h, reason in allowed.reasons if h == sha256), "")
        if why:
            return Suppression("config", f"allowlisted in the config: {why}")
        return Suppression("config", "secret hash allowlisted in the config (allow-secrets)")
    if (rule_id, sha256) in allowed.baseline:
        return Suppression("baseline", "known in the baseline")
    return None
