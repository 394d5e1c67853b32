"""Suppression predicates (DESIGN §6): inline allow markers, config allow-list and baseline hashes."""

from __future__ import annotations

import pytest

from leakscan.model import Suppression
from leakscan.suppress import Allowed, by_hash, inline
from tests import keys
from tests.conftest import findings, sha256


@pytest.mark.parametrize(
    "line, marker",
    [
        ("KEY = '{k}'  # leakscan:allow", "leakscan:allow"),
        ("const k = '{k}'; // gitleaks:allow", "gitleaks:allow"),
        ("KEY = '{k}'  # pragma: allowlist secret", "pragma: allowlist secret"),
        ("<!-- leakscan:allow --> {k}", "leakscan:allow"),
        ("# leakscan:allow gitleaks:allow {k}", "leakscan:allow"),  # the first marker of the list
        ("{k} # gitleaks:allow pragma: allowlist secret", "gitleaks:allow"),
        ("KEY = '{k}'", None),
        ("KEY = '{k}'  # leakscan: allow", None),
        ("KEY = '{k}'  # LEAKSCAN:ALLOW", None),
        ("KEY = '{k}'  # pragma:allowlist secret", None),
        ("KEY = '{k}'  # pragma: allowlist-secret", None),
        ("KEY = '{k}'  # gitleaks-allow", None),
    ],
)
def test_inline_markers(line, marker):
    expected = None if marker is None else Suppression("inline", f"`{marker}` on the line")
    assert inline(line.format(k=keys.key(seed=1))) == expected


SHA = sha256(keys.key(seed=1))
OTHER = sha256(keys.key(seed=2))
CONFIG = Suppression("config", "secret hash allowlisted in the config (allow-secrets)")
BASELINE = Suppression("baseline", "known in the baseline")


@pytest.mark.parametrize(
    "rule_id, allowed, baseline, expected",
    [
        ("stripe.secret-key.live", {SHA}, set(), CONFIG),
        ("stripe.secret-key.live", set(), {("stripe.secret-key.live", SHA)}, BASELINE),
        ("stripe.secret-key.live", {SHA}, {("stripe.secret-key.live", SHA)}, CONFIG),
        ("stripe.secret-key.live", {OTHER}, {("stripe.secret-key.live", OTHER)}, None),
        # the baseline knows the hash under another rule: a different finding
        ("stripe.secret-key.live", set(), {("stripe.restricted-key.live", SHA)}, None),
        ("stripe.secret-key.live", set(), set(), None),
        # the config allow-list is by hash alone, whatever the rule
        ("user.rule", {SHA}, set(), CONFIG),
    ],
    ids=["config", "baseline", "config-first", "other-hash", "other-rule", "none", "any-rule"],
)
def test_by_hash(rule_id, allowed, baseline, expected):
    assert by_hash(rule_id, SHA, Allowed(frozenset(allowed), frozenset(baseline))) == expected


@pytest.mark.parametrize(
    "text, allowed_lines",
    [
        ("A = '{k}'  # leakscan:allow\nB = '{k}'\n", [1]),
        ("# leakscan:allow\nA = '{k}'\n", []),  # a marker on the line before does not count
        ("A = '{k}'\r\nB = '{k}'  # gitleaks:allow\r\n", [2]),
        ("A = '{k}'  # pragma: allowlist secret\nB = '{k}'  # leakscan:allow\n", [1, 2]),
    ],
    ids=["same-line", "line-before", "crlf-second", "both"],
)
def test_inline_marker_allows_the_occurrences_on_its_line_only(text, allowed_lines):
    k = keys.key(seed=3)
    found = findings(text.format(k=k))
    allowed = [loc.line for f in found if f.suppressed for loc in f.locations]
    shown = [loc.line for f in found if not f.suppressed for loc in f.locations]
    assert allowed == allowed_lines
    key_lines = [i for i, line in enumerate(text.splitlines(), 1) if "{k}" in line]
    assert sorted(allowed + shown) == key_lines
    assert all(f.suppressed.kind == "inline" for f in found if f.suppressed)


SPLIT = keys.key("secret", "live", n=99, seed=11)


@pytest.mark.parametrize(
    ("text", "suppressed"),
    [
        ('k = (\n    "{a}"\n    "{b}"  # leakscan:allow\n)\n', True),  # on the last piece's line
        ('k = "{a}" \\\n    "{b}"  # gitleaks:allow\n', True),
        ('k = (\n    "{a}"\n    "{b}"\n)  # leakscan:allow\n', False),  # not theirs
        ('k = (\n    "{a}"\n    "{b}"\n)\n', False),
    ],
    ids=["last-line", "continuation", "line-after", "none"],
)
def test_a_key_written_in_pieces_is_allowed_on_any_line_it_spans(text: str, suppressed: bool):
    (f,) = findings(text.format(a=SPLIT[:20], b=SPLIT[20:]))
    assert f.secret == SPLIT and "split" in f.locations[0].encoding
    assert (f.suppressed is not None) == suppressed
