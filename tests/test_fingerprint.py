"""A secret's identity (sha256 of its UTF-8 bytes) and its redacted form: prefix + … + last 4."""

from __future__ import annotations

import pytest

from leakscan.fingerprint import preview, redact, secret_sha256
from tests import keys


def test_secret_sha256_is_hex_sha256_of_utf8():
    assert secret_sha256("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )  # FIPS 180-2 test vector
    assert secret_sha256("") == ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


BODY = keys.body(30, seed=1)


@pytest.mark.parametrize(
    "prefix",
    [*(p for p in keys.PREFIXES.values()), "rkcs_" + "live_", "wh" + "sec_"],
    ids=lambda p: p.rstrip("_"),
)
def test_preview_is_prefix_ellipsis_last_four(prefix):
    assert preview(prefix + BODY) == prefix + "…" + BODY[-4:]


@pytest.mark.parametrize(
    "secret, shown",
    [
        ("sk_" + "live_" + "abcdefg", "…"),  # 15 characters: nothing shown
        ("sk_" + "live_" + "abcdefgh", "…efgh"),  # 16, but 8 after the prefix: the last 4 only
        ("abcdefghijklmnop", "…mnop"),  # no prefix
        ("x" * 15, "…"),
        ("", "…"),
    ],
    ids=["15", "16", "no-prefix", "short-no-prefix", "empty"],
)
def test_preview_of_short_and_unprefixed_secrets(secret, shown):
    assert preview(secret) == shown


@pytest.mark.parametrize("n", [24, 99, 247])
def test_preview_never_holds_more_than_the_prefix_and_four(n):
    k = keys.key("organization", "live", n=n, seed=n)
    shown = preview(k)
    assert shown == "sk_org_" + "live_" + "…" + k[-4:]
    assert k[12:-4] not in shown


def test_redact_replaces_every_secret_longest_first():
    long = keys.key(seed=2)
    short = long[:40]  # a secret that is a prefix of another one
    text = f"a={long} b={short} c={long}"
    out = redact(text, [short, long, ""])
    assert out == f"a={preview(long)} b={preview(short)} c={preview(long)}"
    assert long not in out and short not in out


@pytest.mark.parametrize(
    "secrets", [(), set(), ["not-there-at-all-1234"]], ids=["tuple", "set", "absent"]
)
def test_redact_leaves_other_text_alone(secrets):
    assert redact("nothing to see: sk_ x", secrets) == "nothing to see: sk_ x"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("abcdefghijklmn_p", "…mn_p"),  # the `_` is inside the secret: no prefix is shown
        ("tok_" + "x1y2z3" * 2 + "abc", "…3abc"),  # 15 characters after the `_`: still too few
        ("tok_" + "x1y2z3" * 3, "tok_…y2z3"),  # 18 after it: a prefix
    ],
)
def test_a_prefix_with_little_behind_it_is_not_shown(secret: str, shown: str):
    assert preview(secret) == shown
