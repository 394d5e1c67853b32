"""Pure: which Stripe account a key belongs to, and findings grouped by account.

Current Stripe keys (99+ body characters from `51`) carry their account in their first 17 body
characters: `51` and the last 15 characters of the account id. A `pk_`, `sk_` and `rk_` of one
account share them in every public sample seen; Stripe does not document it, so a group is evidence
to act on, never a proof. Legacy 24-character keys, organization keys and webhook secrets carry no
account segment: they are not grouped. Only the segment's sha256 and its last four characters leave
this module (`Account`); the segment is part of the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from leakscan.fingerprint import secret_sha256
from leakscan.model import Account, Finding, Severity

ACCOUNT_KEY_TYPES = ("secret", "restricted", "publishable")
ROTATED_TYPES = ("secret", "restricted")  # publishable keys are public by design
SEGMENT_LENGTH = 17  # `51` + the account id's last 15 characters
_CURRENT_BODY = re.compile(r"51[A-Za-z0-9]{97,}")
_TYPE_ORDER = {"secret": 0, "restricted": 1, "publishable": 2}


class AccountGroup(NamedTuple):
    """The findings of one account (unsuppressed ones only), worst first."""

    account: Account
    severity: Severity  # its worst key's
    findings: tuple[Finding, ...]
    together: tuple[str, ...]  # files holding a publishable and a secret or restricted key of it


def account_of(key_type: str, secret: str) -> Account | None:
    """The account of a current `sk_`/`rk_`/`pk_` key; None for any other secret."""
    if key_type not in ACCOUNT_KEY_TYPES:
        return None
    body = secret.rsplit("_", 1)[-1]
    if not _CURRENT_BODY.fullmatch(body):
        return None
    segment = body[:SEGMENT_LENGTH]
    return Account(secret_sha256(segment), f"…{segment[-4:]}")


def group_by_account(findings: Iterable[Finding]) -> tuple[AccountGroup, ...]:
    """Unsuppressed findings with an account, one group per account: worst group first, then by
    preview (a total order: the sha256 breaks ties)."""
    groups: dict[Account, list[Finding]] = {}
    for f in findings:
        if f.account is not None and f.suppressed is None:
            groups.setdefault(f.account, []).append(f)
    made = [
        AccountGroup(account, max(f.severity for f in members), tuple(members), _together(members))
        for account, members in groups.items()
    ]
    return tuple(sorted(made, key=lambda g: (-g.severity, g.account.preview, g.account.sha256)))


def _together(members: list[Finding]) -> tuple[str, ...]:
    """Files (`repository: path` in scan-many) where a publishable key of the account sits beside
    a secret or restricted one: how a client-side bundle leaks the secret key."""
    public: set[str] = set()
    private: set[str] = set()
    for f in members:
        places = {_file(loc.repository, loc.path) for loc in f.locations}
        (public if f.key_type == "publishable" else private).update(places)
    return tuple(sorted(public & private))


def _file(repository: str | None, path: str) -> str:
    return f"{repository}: {path}" if repository else path


def kind_label(f: Finding) -> str:
    """`live secret key`, `test publishable key`."""
    return f"{f.mode} {f.key_type} key" if f.mode else f"{f.key_type} key"


def describe(group: AccountGroup) -> str:
    """`account …Xy4Q: live secret key, live restricted key and live publishable key exposed — rotate
    the secret and restricted keys; check the request logs for both`."""
    ordered = sorted(group.findings, key=lambda f: (f.mode != "live", _TYPE_ORDER[f.key_type]))
    kinds = list(dict.fromkeys(kind_label(f) for f in ordered))
    rotate = list(dict.fromkeys(f.key_type for f in ordered if f.key_type in ROTATED_TYPES))
    head = f"account {group.account.preview}: {_and(kinds)} exposed"
    if not rotate:
        return f"{head} — publishable keys are public by design: nothing to rotate"
    keys = "key" if len(rotate) == 1 and _count(ordered, rotate[0]) == 1 else "keys"
    logs = "it" if len(rotate) == 1 and keys == "key" else "each" if len(rotate) == 1 else "both"
    return f"{head} — rotate the {_and(rotate)} {keys}; check the request logs for {logs}"


def together_line(path: str) -> str:
    return (f"a publishable key and a secret or restricted key of this account are together in "
            f"{path}: a client-side bundle built from it ships the secret one")  # fmt: skip


def _count(findings: list[Finding], key_type: str) -> int:
    return sum(f.key_type == key_type for f in findings)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
