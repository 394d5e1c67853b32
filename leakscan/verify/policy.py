"""Pure policy for `--verify`: which findings may be checked, what an HTTP status means, and how the
answer changes a finding (severity, notes, order). The HTTP itself lives in `verify.py`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from leakscan.findings import finding_order
from leakscan.fingerprint import secret_sha256
from leakscan.model import Confidence, Finding, RuleSet, Severity, Verification

LIVE, REVOKED, UNKNOWN = "live", "revoked", "unknown"
ELIGIBLE_TYPES = ("secret", "restricted", "organization")
ELIGIBLE_PREFIXES = ("sk_", "rk_", "rkcs_")  # never pk_ (public) or whsec_ (no API to ask)
ROTATED_NOTE = "rotated — remove it from history when convenient"
LIVE_NOTE = "verified live: Stripe's API accepted this key"


def eligible(f: Finding, rules: RuleSet) -> bool:
    """Only Stripe secret, restricted and organization keys that are surely Stripe's and not public
    samples: a look-alike (another vendor's token) must never be sent to Stripe."""
    return (
        f.key_type in ELIGIBLE_TYPES
        and f.secret.startswith(ELIGIBLE_PREFIXES)
        and f.confidence is not Confidence.LOW
        and secret_sha256(f.secret) not in rules.documentation_sample_hashes
    )


def keys_to_check(findings: Iterable[Finding], rules: RuleSet) -> tuple[str, ...]:
    """Distinct keys to verify, most important first (unsuppressed, then worst), so a cap drops the
    least useful requests."""
    ordered = sorted(
        (f for f in findings if eligible(f, rules)),
        key=lambda f: (f.suppressed is not None, finding_order(f)),
    )
    return tuple(dict.fromkeys(f.secret for f in ordered))


def status_for(http_status: int, key_type: str) -> tuple[str, str]:
    """(status, reason) for an HTTP answer. Only 401 means revoked; anything unclear is unknown."""
    if http_status == 200:
        return LIVE, "the key can read the account (HTTP 200)"
    if http_status == 403:
        return (
            LIVE,
            "the key works but lacks permission to read the account, as restricted keys may",
        )
    if http_status == 401:
        return REVOKED, "Stripe rejected the key as invalid, rotated or deleted (HTTP 401)"
    if http_status == 429:
        return UNKNOWN, "rate limited by Stripe (HTTP 429); try again later"
    if http_status >= 500:
        return UNKNOWN, f"Stripe answered with a server error (HTTP {http_status})"
    if http_status == 400 and key_type == "organization":
        return UNKNOWN, "organization keys need an account: pass --stripe-context acct_… (HTTP 400)"
    return UNKNOWN, f"unexpected answer (HTTP {http_status})"


def apply(findings: Iterable[Finding], results: Mapping[str, Verification]) -> tuple[Finding, ...]:
    """Attach each finding's verification (by secret_sha256), adjust severity, rank live ones first."""
    out = [_adjusted(f, results.get(f.secret_sha256)) for f in findings]
    return tuple(sorted(out, key=lambda f: (not is_live(f), finding_order(f))))


def is_live(f: Finding) -> bool:
    return f.verification is not None and f.verification.status == LIVE


def _adjusted(f: Finding, v: Verification | None) -> Finding:
    if v is None:
        return f
    if v.status == LIVE:
        return f._replace(verification=v, severity=f.severity.raised(), notes=(*f.notes, LIVE_NOTE))
    if v.status == REVOKED:
        return f._replace(verification=v, severity=Severity.LOW, notes=(*f.notes, ROTATED_NOTE))
    return f._replace(verification=v)
