"""Test keys, built at run time: the repository holds no key literals outside rules/."""

from __future__ import annotations

import random
import string

B62 = string.ascii_letters + string.digits
PREFIXES = {
    # kind, mode -> prefix (assembled so no literal prefix+body appears in the source)
    ("secret", "live"): "sk_" + "live_",
    ("secret", "test"): "sk_" + "test_",
    ("restricted", "live"): "rk_" + "live_",
    ("restricted", "test"): "rk_" + "test_",
    ("publishable", "live"): "pk_" + "live_",
    ("publishable", "test"): "pk_" + "test_",
    ("organization", "live"): "sk_org_" + "live_",
    ("organization", "test"): "sk_org_" + "test_",
}
EXPECTED = {
    ("secret", "live"): ("stripe.secret-key.live", "critical"),
    ("secret", "test"): ("stripe.secret-key.test", "medium"),
    ("restricted", "live"): ("stripe.restricted-key.live", "high"),
    ("restricted", "test"): ("stripe.restricted-key.test", "low"),
    ("publishable", "live"): ("stripe.publishable-key.live", "info"),
    ("publishable", "test"): ("stripe.publishable-key.test", "info"),
    ("organization", "live"): ("stripe.organization-key.live", "critical"),
    ("organization", "test"): ("stripe.organization-key.test", "medium"),
}


def body(n: int = 99, seed: int | None = None, alphabet: str = B62) -> str:
    rnd = random.Random(seed)
    while True:
        s = "".join(rnd.choice(alphabet) for _ in range(n))
        if alphabet != B62 or (any(c.isdigit() for c in s) and any(c.isupper() for c in s)):
            return s


def key(kind: str = "secret", mode: str = "live", n: int = 99, seed: int | None = None) -> str:
    return PREFIXES[(kind, mode)] + body(n, seed)


def webhook(hex64: bool = False, seed: int | None = None) -> str:
    if hex64:
        return "whsec_" + body(64, seed, "0123456789abcdef")
    return "whsec_" + body(32, seed)


def documentation_samples() -> tuple[str, ...]:
    """Stripe's published sample keys, as rules/stripe.yaml lists them (the rules keep only hashes)."""
    import yaml

    from leakscan.settings.builtin import builtin_documents

    return tuple(sorted(
        str(v) for _, text in builtin_documents()
        for v in (yaml.safe_load(text).get("documentation_samples") or {}).get("values", [])
    ))  # fmt: skip
