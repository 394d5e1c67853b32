"""The one definition of a secret's identity (`secret_sha256`) and of its redacted form (`preview`)."""

from __future__ import annotations

_PREFIX_SCAN = 16  # a known prefix ends with `_` within this many characters (sk_org_live_)
_MIN_PREVIEW_LENGTH = 16  # shorter secrets show no characters at all


def secret_sha256(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def preview(secret: str) -> str:
    """`sk_live_…a1B2`: the prefix and the last four characters, never more. A "prefix" that leaves
    fewer than 16 characters behind it is part of the secret (a user rule's `abcdefghijklmn_p`)
    and is not shown."""
    if len(secret) < _MIN_PREVIEW_LENGTH:
        return "…"
    cut = secret.rfind("_", 0, _PREFIX_SCAN) + 1
    if len(secret) - cut < _MIN_PREVIEW_LENGTH:
        cut = 0
    return f"{secret[:cut]}…{secret[-4:]}"


def redact(text: str, secrets: tuple[str, ...] | list[str] | set[str]) -> str:
    """Replace every raw secret in `text` by its preview (for messages built from untrusted input)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, preview(secret))
    return text
