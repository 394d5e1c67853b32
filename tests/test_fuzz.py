"""Property tests: planted keys are found exactly and located exactly; rule and config files never crash."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leakscan.errors import ConfigError, RuleError
from leakscan.match.engine import compile_matcher, find_matches
from leakscan.model import Blob
from leakscan.scan.content import scan_blob
from leakscan.settings import Settings
from leakscan.settings.config import parse_config
from leakscan.settings.rules import parse_rule_file
from tests import keys
from tests.conftest import RULES

SETTINGS = Settings(RULES, compile_matcher(RULES.rules))
KINDS = [*keys.PREFIXES, ("webhook", "base62"), ("webhook", "hex")]
BEFORE = [b" ", b"\n", b"\t", b"'", b'"', b"=", b":", b"(", b",", b"\r\n", b"> "]
AFTER = [b" ", b"\n", b"\t", b"'", b'"', b";", b")", b",", b"\r\n", b" <", b"."]
SETTINGS_FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def planted_key(draw: st.DrawFn) -> str:
    kind, mode = draw(st.sampled_from(KINDS))
    seed = draw(st.integers(0, 2**32))
    if kind == "webhook":
        return keys.webhook(hex64=mode == "hex", seed=seed)
    return keys.key(kind, mode, n=draw(st.sampled_from([24, 32, 99, 107, 224, 247])), seed=seed)


@st.composite
def document(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """Random bytes (no NUL, so the file is text) with keys planted between boundary-safe separators."""
    filler = st.binary(max_size=300).map(lambda b: b.replace(b"\0", b"?"))
    planted = draw(st.lists(planted_key(), max_size=5))
    parts = [draw(filler)]
    for k in planted:
        parts += [
            draw(st.sampled_from(BEFORE)),
            k.encode(),
            draw(st.sampled_from(AFTER)),
            draw(filler),
        ]
    data = b"".join(parts)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a UTF-16 byte-order mark would change the decoding
        data = b"#" + data
    return data, planted


@SETTINGS_FAST
@given(document())
def test_matcher_finds_exactly_the_planted_keys(doc: tuple[bytes, list[str]]) -> None:
    data, planted = doc
    found = find_matches(SETTINGS.matcher, data)
    assert found.timeouts == ()
    assert sorted(m.secret for m in found.matches) == sorted(planted)
    for m in found.matches:
        assert data[m.start : m.end].decode() == m.secret


@SETTINGS_FAST
@given(document())
def test_every_location_points_at_its_key(doc: tuple[bytes, list[str]]) -> None:
    data, planted = doc
    report = scan_blob(SETTINGS, Blob("f.txt", data))
    assert sorted(o.secret for o in report.occurrences) == sorted(planted)
    lines = data.split(b"\n")
    for occ in report.occurrences:
        loc = occ.location
        line = lines[loc.line - 1].decode("utf-8", "replace")
        assert line[loc.column - 1 : loc.end_column - 1] == occ.secret


@SETTINGS_FAST
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    report = scan_blob(SETTINGS, Blob("f.bin", data))
    assert not any(k.incomplete for k in report.skipped)  # a damaged "archive" is listed, not fatal


# --- user rule files -----------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=False), st.text(max_size=20),
    st.sampled_from(["high", "live", "test", "custom", "secret", "(", "a{2,1}", "(?P<secret>x)",
                     "acme_[a-z]{4}", "[", "\\", "(?i)x", "x{99999999999}", "(?<=a+)b"]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=6,
)
RULE_FIELDS = ["id", "title", "description", "key_type", "mode", "severity", "regex", "keywords",
               "remediation", "references", "examples", "negative_examples", "stripe", "bogus"]  # fmt: skip
TOP_FIELDS = ["version", "rules", "documentation_samples", "placeholders", "lookalikes",
              "structured_bodies", "extra"]  # fmt: skip
VALID_RULE = {
    "id": "acme.x",
    "title": "X",
    "severity": "high",
    "keywords": ["acme_"],
    "regex": "acme_[a-z]{4}",
}


@st.composite
def rule(draw: st.DrawFn) -> object:
    """A valid rule with up to two fields replaced by anything, or anything at all."""
    changed = draw(st.dictionaries(st.sampled_from(RULE_FIELDS), VALUES, max_size=2))
    return draw(st.sampled_from([{**VALID_RULE, **changed}, {**VALID_RULE, **changed}, changed]))


@st.composite
def rule_file(draw: st.DrawFn) -> str:
    top = draw(st.dictionaries(st.sampled_from(TOP_FIELDS), VALUES, max_size=2))
    if draw(st.integers(0, 3)):
        top["rules"] = draw(st.lists(rule(), max_size=3))
    return yaml.safe_dump(top)


def _loads_or_fails_with_a_sentence(text: str) -> None:
    try:
        rs = parse_rule_file(text, "user.yaml", builtin=False)
    except RuleError as exc:
        message = str(exc)
        assert message.startswith("user.yaml: ") and message.endswith(".") and "\n" not in message
        return
    compile_matcher(rs.rules)  # what loads also compiles


@SETTINGS_FAST
@given(rule_file())
def test_random_rule_files_load_or_fail_with_a_sentence(text: str) -> None:
    _loads_or_fails_with_a_sentence(text)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_random_text_as_a_rule_file(text: str) -> None:
    _loads_or_fails_with_a_sentence(text)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["fail-on", "exclude-paths", "allow-secrets", "rules", "baseline", "x"]),
                       VALUES, max_size=4) | VALUES)  # fmt: skip
def test_random_configs_load_or_fail_with_a_sentence(doc: object) -> None:
    try:
        parse_config(doc, Path(".leakscan.yaml"))
    except ConfigError as exc:
        assert str(exc).startswith(".leakscan.yaml") and "\n" not in str(exc)
