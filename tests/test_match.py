"""The matching rules of DESIGN §1, on text shaped like real files."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leakscan.findings import from_occurrences
from leakscan.match.engine import compile_matcher, find_matches
from leakscan.model import Blob, Confidence, Severity
from leakscan.scan.content import scan_blob
from leakscan.settings import Settings
from tests import keys
from tests.conftest import RULES, SETTINGS, findings


def secrets(text: str | bytes) -> list[str]:
    return [f.secret for f in findings(text)]


@pytest.mark.parametrize("kind_mode", list(keys.EXPECTED), ids=lambda km: "-".join(km))
@pytest.mark.parametrize("n", [24, 99, 224, 247])
def test_every_kind_and_mode_at_every_length(kind_mode, n):
    k = keys.key(*kind_mode, n=n)
    (f,) = findings(f"KEY={k}\n")
    rule_id, severity = keys.EXPECTED[kind_mode]
    assert (f.rule_id, f.severity.label, f.secret) == (rule_id, severity, k)
    assert f.key_type == kind_mode[0] and f.mode == kind_mode[1]


def test_restricted_rkcs_prefix():
    k = "rkcs_" + "live_" + keys.body(40)
    (f,) = findings(f"x = '{k}'")
    assert f.rule_id == "stripe.restricted-key.live" and f.severity == Severity.HIGH


@pytest.mark.parametrize("hex64", [False, True])
def test_webhook_secrets(hex64):
    k = keys.webhook(hex64)
    (f,) = findings(f'STRIPE_WEBHOOK_SECRET="{k}"')
    assert f.rule_id == "stripe.webhook-secret" and f.mode is None and f.severity == Severity.HIGH


@pytest.mark.parametrize(
    "make",
    [
        lambda k: "a" + k,  # ask_live_...
        lambda k: "t" + k,
        lambda k: "x" + k,
        lambda k: "_" + k,
        lambda k: k + "-" + keys.body(8),  # Apideck-style continuation
        lambda k: k + "_" + keys.body(8),
        lambda k: k.replace("live", "prod"),
        lambda k: k.replace("live", "dev"),
        lambda k: k.upper(),
        lambda k: k[:20],  # too short
        lambda k: k + keys.body(230),  # longer than 247
        lambda k: k + "...",
        lambda k: k + "…",
        lambda k: k + "****",
    ],
)
def test_not_keys(make):
    assert secrets(make(keys.key("secret", "live", n=30)) + "\n") == []


@pytest.mark.parametrize(
    "body",
    ["x" * 30, "X" * 24, "ab" * 15, "0" * 40, "abc" * 10, "1234" * 8, "0123456789" * 3,
     "YOURSECRETKEYHEREPLEASE0", "abcdEXAMPLEkey1234567890", "replaceWithYourOwnKey12345",
     "51Hxxxxxxxxxxxxxxxxxxxxxxxxxx", "abcdefghijklmnopqrstuvwxyz"],
)  # fmt: skip
def test_placeholders_are_not_findings(body):
    assert secrets(keys.PREFIXES[("secret", "live")] + body) == []


def test_svix_webhook_shapes_are_not_stripe():
    assert secrets("whsec_" + keys.body(24) + "+" + keys.body(7) + "/=") == []
    assert secrets("whsec_" + keys.body(32) + "==") == []
    assert secrets("whsec_" + keys.body(44)) == []


def test_paystack_shape_is_low_confidence_with_note():
    k = keys.PREFIXES[("secret", "live")] + keys.body(40, alphabet="0123456789abcdef")
    (f,) = findings(f"PAYSTACK_SECRET={k}")
    assert f.confidence == Confidence.LOW and "Paystack" in f.notes[0]


def test_documentation_sample_is_info_with_note():
    sample = keys.documentation_samples()[0]
    (f,) = findings(f"stripe.api_key = '{sample}'")
    assert f.severity == Severity.INFO and "documentation" in f.notes[0]


@pytest.mark.parametrize(
    "template, line, column",
    [
        ("STRIPE_SECRET_KEY={k}\n", 1, 19),  # .env
        ('{{"a": 1,\n "key": "\\n{k}"}}', 2, 12),  # JSON with \n escape before the key
        ("https://x.test/cb?q=a%20{k}&z=1", 1, 25),  # %20 before the key
        ("https://x.test/cb?key%3D{k}", 1, 25),  # %3D
        ("curl https://api.stripe.com/v1/charges -u {k}:\n", 1, 43),  # curl -u key:
        ("stripe:\n  secret_key: {k}\n", 2, 15),  # YAML
        ('!function(){{var a="{k}";}}();', 1, 20),  # minified JS
        ("id,key\n1,{k}\n", 2, 3),  # CSV
        ("Use `{k}` in **prod**", 1, 6),  # Markdown
        ("密钥是{k}。", 1, 4),  # CJK prose: multi-byte before the key
        ("line one\r\nkey = {k}\r\n", 2, 7),  # CRLF
        ("\\u0022{k}\\u0022", 1, 7),  # \uXXXX escape
        ("é" * 5 + "\t{k}", 1, 7),
    ],
)
def test_real_file_shapes_and_positions(template, line, column):
    k = keys.key("secret", "live", n=99)
    (f,) = findings(template.format(k=k))
    loc = f.locations[0]
    assert f.secret == k
    assert (loc.line, loc.column, loc.end_column) == (line, column, column + len(k))


def test_many_keys_sorted_positions_and_one_finding_per_secret():
    a, b = keys.key("secret", "live"), keys.key("restricted", "test")
    text = f"{a}\n{b}\nagain {a}\n"
    fs = findings(text)
    assert [f.secret for f in fs] == [a, b]
    assert [(loc.line, loc.column) for loc in fs[0].locations] == [(1, 1), (3, 7)]


def test_inline_allow_markers_suppress_that_line_only():
    k = keys.key("secret", "live")
    for marker in ("leakscan:allow", "gitleaks:allow", "pragma: allowlist secret"):
        (f,) = findings(f"k = '{k}'  # {marker}\n")
        assert f.suppressed is not None and f.suppressed.kind == "inline"
    fs = findings(f"k = '{k}'  # leakscan:allow\nj = '{k}'\n")
    assert sorted(f.suppressed is None for f in fs) == [False, True]


def test_dense_input_is_bounded_and_exact():
    k = keys.key("secret", "live", n=24)
    junk = (keys.PREFIXES[("secret", "live")] * 200_000).encode()
    found = find_matches(SETTINGS.matcher, junk + b" " + k.encode() + b"\n")
    assert [m.secret for m in found.matches] == [k]


def test_utf16_files_are_read():
    k = keys.key("secret", "test")
    for codec in ("utf-16", "utf-16-le", "utf-16-be"):
        fs = findings(f"a = 1\nkey = {k}\n".encode(codec))
        assert [f.secret for f in fs] == [k]
        assert fs[0].locations[0].line == 2


def test_binary_is_skipped_unless_a_key_prefix_is_in_its_bytes():
    k = keys.key("secret", "live")
    report = scan_blob(SETTINGS, Blob("b.bin", b"\x00\x01\x02" * 100 + k[3:].encode()))
    assert report.binary and report.occurrences == ()
    report = scan_blob(SETTINGS, Blob("b.bin", b"\x00\x01\x02" * 100 + k.encode()))
    assert not report.binary and [o.secret for o in report.occurrences] == [k]


def test_repr_never_holds_the_raw_key():
    k = keys.key("secret", "live")
    blob = Blob("f", f"x={k}".encode())
    report = scan_blob(SETTINGS, blob)
    (f,) = from_occurrences(SETTINGS.rules, report.occurrences, SETTINGS.allowed)
    for obj in (blob, report, f, *report.occurrences, find_matches(SETTINGS.matcher, blob.data)):
        assert k not in repr(obj)


def test_keywords_sharing_a_first_byte_are_probed_in_one_pass():
    from leakscan.match.engine import has_keyword
    from leakscan.model import Rule

    def rule(rid: str, keyword: str) -> Rule:
        return Rule(
            rid, rid, rid, "custom", None, Severity.HIGH, keyword + "[a-z]{4}", (keyword,), ""
        )

    matcher = compile_matcher(
        (rule("a", "ab_"), rule("b", "abc_"), rule("c", "zz_"), rule("d", "a.b"))
    )
    assert len(matcher.probes) == 2  # the a... keywords in one regex, zz_ in another
    for text, expected in [(b"x abc_defg", True), (b"ab_q", True), (b"a.b", True), (b"axb", False),
                           (b"zz_", True), (b"ab", False), (b"", False)]:  # fmt: skip
        assert has_keyword(matcher, text) is expected, text
        assert bool(find_matches(matcher, text + b"wxyz").matches) is expected, text


WORDS = ["_live_", "_test_", "whsec_", "sec_", "a_", "_x", "b.", ".b", "ab", "_", "a", "x_y_"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS) | st.text("ab_.", min_size=1, max_size=3), min_size=1,
             max_size=5, unique=True),
    st.lists(st.sampled_from([*WORDS, "x", " ", "_", "w", "a", "."]), max_size=12).map("".join),
)  # fmt: skip
def test_probes_find_each_keyword_where_it_first_occurs(words: list[str], text: str):
    """A keyword is looked for only from where its probe first matched; whatever the keywords, each
    one present is reported at its first offset, as `bytes.find` says."""
    from leakscan.match.engine import has_keyword
    from leakscan.model import Rule

    rules = tuple(Rule(f"r{i}", "r", "r", "custom", None, Severity.HIGH, "(?!)", (w,), "")
                  for i, w in enumerate(words))  # fmt: skip
    matcher = compile_matcher(rules)
    data = text.encode()
    expected = tuple((w.encode(), data.find(w.encode())) for w in words if w.encode() in data)
    assert find_matches(matcher, data).keywords_seen == expected
    assert has_keyword(matcher, data) is bool(expected)


def test_builtin_probes_start_at_a_byte_rarer_than_underscore():
    """The probes look for the anchors from `k` (`k_test_`, `kcs_test_`, `k_org_test_`) and for
    `whsec_`, not for every `_test_`: test code with no key costs no keyword search at all."""
    assert sorted(p.pattern[:1] for p in SETTINGS.matcher.probes) == [b"k", b"w"]
    for text in (b"def run_test_case(live_test_): pass", b"desk_tester = 1", b"rkc_test_"):
        assert find_matches(SETTINGS.matcher, text).keywords_seen == (), text
    prefixes = ["sk_", "rk_", "rkcs_", "pk_", "sk_org_"]
    for prefix in prefixes:
        for mode in ("live", "test"):
            text = f"a {prefix}{mode}_ b".encode()
            seen = find_matches(SETTINGS.matcher, text).keywords_seen
            assert seen == ((f"_{mode}_".encode(), text.find(f"_{mode}_".encode())),), text
    assert find_matches(SETTINGS.matcher, b"x whsec_").keywords_seen == ((b"whsec_", 2),)


def test_rules_are_compiled_only_when_an_anchor_is_there():
    """`fk_test_` passes the `k_test_` probe but holds no anchor: the group's hit pattern runs, its
    four rules are not compiled (~2.3 ms); `sk_test_` compiles them."""
    from leakscan.match.engine import _compiled

    matcher = compile_matcher(RULES.rules)
    (group,) = [g for g in matcher.groups if g.keyword == b"_test_"]
    assert find_matches(matcher, b"def test_fk_test_case(): pass").matches == ()
    assert _compiled(group).patterns == []
    assert find_matches(matcher, ("x = " + keys.key("secret", "test")).encode()).matches
    assert len(_compiled(group).patterns[0].rules) == 4


ANCHOR_PARTS = ["ab", "kb", "b", "_k", "zk"]
KEYWORDS = ["_kw_", "_zz_", "kw_"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.lists(st.sampled_from(ANCHOR_PARTS), min_size=1, max_size=3, unique=True),
                       st.sampled_from(KEYWORDS)), min_size=1, max_size=4),
    st.sampled_from(["builtin", "acme.yaml"]),
    st.lists(st.sampled_from([*ANCHOR_PARTS, *KEYWORDS, *(a + k + "7" for a in ANCHOR_PARTS for k in KEYWORDS),
                              "7", " ", "_", "k", "a"]), max_size=12).map("".join),
)  # fmt: skip
def test_probes_cut_from_anchors_lose_no_match(
    specs: list[tuple[list[str], str]], origin: str, text: str
):
    """Rules whose anchors are known are probed from the rarest byte their anchors share: the matches
    are those of each rule's regex over the whole text, whatever the anchors and keywords, both when
    each rule is tried at its anchors (built-in) and in windows around them (a user rule file)."""
    import regex

    from leakscan.model import Rule

    rules = tuple(
        Rule(f"r{i}", "r", "r", "custom", None, Severity.HIGH,
             f"(?P<secret>(?:{'|'.join(parts)}){keyword}7+)", (keyword,), "", origin=origin)
        for i, (parts, keyword) in enumerate(specs)
    )  # fmt: skip
    matcher = compile_matcher(rules)
    data = text.encode()
    expected = {
        (r.id, m.start("secret"), m.end("secret"))
        for r in rules
        for m in regex.finditer(r.regex.encode(), data)
    }
    assert {(m.rule_id, m.start, m.end) for m in find_matches(matcher, data).matches} == expected


def _with_user_rule(regex: str) -> Settings:
    from leakscan.model import Rule

    user = Rule("acme.tok", "Acme token", "Acme token", "custom", None, Severity.HIGH, regex,
                ("_test_",), "Revoke it.", origin="acme.yaml")  # fmt: skip
    rules = RULES._replace(rules=(*RULES.rules, user))
    return Settings(rules, compile_matcher(rules.rules))


def test_user_rules_keep_line_semantics_next_to_the_builtin_ones():
    """A user rule sharing `_test_` with the built-in rules: `$` is a line's end, and a match never
    runs into the next line (as the windows always did)."""
    dollar = _with_user_rule(r"(?P<secret>tok_test_[A-Za-z0-9]{6,})$")
    found = find_matches(dollar.matcher, b"a = tok_test_abcdefXYZ\nb = 1\n").matches
    assert [m.secret for m in found] == ["tok_test_abcdefXYZ"]
    spaced = _with_user_rule(r"(?P<secret>tok_test_[A-Za-z0-9]{6}(?:\s+[0-9]{2})?)")
    found = find_matches(spaced.matcher, b"a = tok_test_abcdef\n12 = b\n").matches
    assert [m.secret for m in found] == ["tok_test_abcdef"]


def test_user_rule_matches_do_not_overlap():
    loose = _with_user_rule(r"(?P<secret>sk_test_[A-Za-z0-9]{8,})")
    text = (
        "x " + "sk_" + "test_" + keys.body(30) + "sk_" + "test_" + keys.body(30) + "\n"
    ).encode()
    found = [m for m in find_matches(loose.matcher, text).matches if m.rule_id == "acme.tok"]
    assert len(found) == 1
