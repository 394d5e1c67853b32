"""classify(): severity by kind and mode, context escalation, placeholders, look-alikes and
documentation samples (DESIGN §1-2), on the built-in rules."""

from __future__ import annotations

import pytest

from leakscan.classify import classify, placeholder_reason, split_verdict
from leakscan.model import Confidence, Rule, Severity
from tests import keys
from tests.conftest import RULES, b64

RULE_ID = {kind_mode: rule_id for kind_mode, (rule_id, _) in keys.EXPECTED.items()}
HEX = "0123456789abcdef"


def verdict(kind: str, mode: str | None, secret: str, path: str = "app/settings.py",
            before: str = "KEY = '"):  # fmt: skip
    rule_id = "stripe.webhook-secret" if kind == "webhook" else RULE_ID[(kind, mode)]
    return classify(RULES, RULES.rule(rule_id), secret, path, before)


@pytest.mark.parametrize(
    "kind, mode, severity",
    [
        ("secret", "live", Severity.CRITICAL),
        ("organization", "live", Severity.CRITICAL),
        ("restricted", "live", Severity.HIGH),
        ("secret", "test", Severity.MEDIUM),
        ("organization", "test", Severity.MEDIUM),
        ("restricted", "test", Severity.LOW),
        ("publishable", "live", Severity.INFO),
        ("publishable", "test", Severity.INFO),
    ],
    ids=lambda v: v.label if isinstance(v, Severity) else v,
)
def test_severity_by_kind_and_mode_in_plain_server_code(kind, mode, severity):
    v = verdict(kind, mode, keys.key(kind, mode, seed=1))
    assert v is not None
    assert (v.severity, v.confidence, v.context, v.notes) == (severity, Confidence.HIGH, (), ())


def test_webhook_secret_is_high():
    v = verdict("webhook", None, keys.webhook(seed=1))
    assert v is not None and (v.severity, v.confidence) == (Severity.HIGH, Confidence.HIGH)


ENV = "client-side variable {}: build tools inline it into code sent to browsers"
BUNDLE = "built JavaScript under {}/: served to every browser"
MOBILE = "mobile app file {}: anyone can unpack the app and read it"


@pytest.mark.parametrize(
    "kind, mode, path, before, severity, context",
    [
        # client-side environment names, each prefix of DESIGN §2
        ("secret", "test", ".env", "NEXT_PUBLIC_STRIPE_KEY=", "high", [ENV.format("NEXT_PUBLIC_STRIPE_KEY")]),
        ("restricted", "test", ".env", "REACT_APP_STRIPE=", "medium", [ENV.format("REACT_APP_STRIPE")]),
        ("secret", "test", ".env", "export VITE_STRIPE_SECRET='", "high", [ENV.format("VITE_STRIPE_SECRET")]),
        ("restricted", "live", "app.json", '"EXPO_PUBLIC_STRIPE": "', "critical", [ENV.format("EXPO_PUBLIC_STRIPE")]),
        ("secret", "test", "site.yml", "GATSBY_STRIPE: ", "high", [ENV.format("GATSBY_STRIPE")]),
        ("secret", "test", "nuxt.config.ts", "NUXT_PUBLIC_KEY = '", "high", [ENV.format("NUXT_PUBLIC_KEY")]),
        ("organization", "test", ".env", "PUBLIC_ORG_KEY=", "high", [ENV.format("PUBLIC_ORG_KEY")]),
        # never above critical
        ("secret", "live", ".env", "NEXT_PUBLIC_KEY=", "critical", [ENV.format("NEXT_PUBLIC_KEY")]),
        # not a client-side name: a longer word, no assignment, lower case
        ("secret", "test", ".env", "MY_PUBLIC_KEY=", "medium", []),
        ("secret", "test", "app.js", "const k = process.env.NEXT_PUBLIC_KEY || '", "medium", []),
        ("secret", "test", ".env", "next_public_key=", "medium", []),
        # built bundles
        ("secret", "test", "public/app.js", "var k='", "high", [BUNDLE.format("public")]),
        ("secret", "test", "web/static/js/main.mjs", "k='", "high", [BUNDLE.format("static")]),
        ("restricted", "test", "dist/server.cjs", "k='", "medium", [BUNDLE.format("dist")]),
        ("secret", "test", "build/bundle.js", "k='", "high", [BUNDLE.format("build")]),
        ("secret", "test", "src/app.js", "k='", "medium", []),
        ("secret", "test", "dist/app.ts", "k='", "medium", []),
        ("secret", "test", "distribution/app.js", "k='", "medium", []),
        ("secret", "test", "public.js", "k='", "medium", []),
        # mobile sources and resources
        ("secret", "test", "ios/App/Info.plist", "<string>", "high", [MOBILE.format("Info.plist")]),
        ("secret", "test", "android/app/src/main/res/values/strings.xml", ">", "high",
         [MOBILE.format("strings.xml")]),
        ("restricted", "live", "App/Config.swift", 'let k = "', "critical", [MOBILE.format("Config.swift")]),
        ("secret", "test", "app/src/Main.kt", 'val k = "', "high", [MOBILE.format("Main.kt")]),
        ("secret", "test", "build.gradle.kts", 'k = "', "medium", []),
        ("secret", "test", "Info.plist.bak", "k=", "medium", []),
        # two reasons still raise one step
        ("secret", "test", "dist/app.js", "const NEXT_PUBLIC_K = '", "high",
         [ENV.format("NEXT_PUBLIC_K"), BUNDLE.format("dist")]),
        # never for publishable keys or webhook secrets
        ("publishable", "live", "dist/app.js", "NEXT_PUBLIC_STRIPE=", "info", []),
        ("webhook", None, "ios/Info.plist", "NEXT_PUBLIC_HOOK=", "high", []),
    ],
    ids=lambda v: v if isinstance(v, str) and v else None,
)  # fmt: skip
def test_context_escalates_client_side_places_one_step(kind, mode, path, before, severity, context):
    secret = keys.webhook(seed=2) if kind == "webhook" else keys.key(kind, mode, seed=2)
    v = verdict(kind, mode, secret, path, before)
    assert v is not None
    assert (v.severity.label, list(v.context)) == (severity, context)


@pytest.mark.parametrize(
    "body, reason",
    [
        ("ab" * 15, "at most 2 distinct characters"),
        ("x" * 30, "at most 2 distinct characters"),
        ("abc" * 10, "repeats a 3-character unit"),
        ("Ab1z" * 8, "repeats a 4-character unit"),
        ("YOURstripeKeyGoesHere9Q2w", "starts with 'your'"),
        ("fake9Q2wLmT4xPzR8sKvB3nC", "starts with 'fake'"),
        ("9Q2wLmEXAMPLEpzR8sKvB3nC", "contains 'example'"),
        ("9Q2wLmT4xPzR8sKvB3nCredacted", "contains 'redacted'"),
        ("Q9z01234567Lm", "a run of 8 or more sequential characters"),
        ("Q9zhgfedcbaLm", "a run of 8 or more sequential characters"),
        ("abcde" * 6, None),  # period 5 is above max_period and no other test applies
        ("Q9z0123456Lm", None),  # a run of 7
        ("9Q2wLmT4xPzR8sKvB3nC7hYd", None),
    ],
)
def test_placeholder_reasons(body, reason):
    assert placeholder_reason(body, RULES.placeholders) == reason
    v = verdict("secret", "live", keys.PREFIXES[("secret", "live")] + body)
    assert (v is None) == (reason is not None)


@pytest.mark.parametrize(
    "kind, mode, body, confidence, severity",
    [
        ("secret", "live", keys.body(40, seed=3, alphabet=HEX), Confidence.LOW, Severity.CRITICAL),
        ("publishable", "test", keys.body(40, seed=3, alphabet=HEX), Confidence.LOW, Severity.INFO),
        ("restricted", "live", keys.body(40, seed=3, alphabet=HEX), Confidence.HIGH, Severity.HIGH),
        ("secret", "live", keys.body(40, seed=3, alphabet=HEX).upper(), Confidence.HIGH, Severity.CRITICAL),
        ("secret", "live", keys.body(41, seed=3, alphabet=HEX), Confidence.HIGH, Severity.CRITICAL),
        ("secret", "live", keys.body(39, seed=3, alphabet=HEX), Confidence.HIGH, Severity.CRITICAL),
    ],
    ids=["paystack-sk", "paystack-pk", "restricted-not-paystack", "upper-hex", "41-hex", "39-hex"],
)  # fmt: skip
def test_paystack_shaped_bodies_are_low_confidence(kind, mode, body, confidence, severity):
    v = verdict(kind, mode, keys.PREFIXES[(kind, mode)] + body)
    assert v is not None and (v.confidence, v.severity) == (confidence, severity)
    assert any("Paystack" in n for n in v.notes) == (confidence == Confidence.LOW)


CLERK = b64("quiet-harbor.clerk.accounts.dev$").rstrip("=")


def test_clerk_shaped_publishable_key_is_not_reported_but_a_secret_key_is():
    assert CLERK.isalnum()
    assert verdict("publishable", "live", keys.PREFIXES[("publishable", "live")] + CLERK) is None
    v = verdict("secret", "live", keys.PREFIXES[("secret", "live")] + CLERK)
    assert v is not None and (v.severity, v.confidence) == (Severity.CRITICAL, Confidence.HIGH)


@pytest.mark.parametrize("sample", keys.documentation_samples(), ids=lambda s: s[:8])
def test_documentation_samples_are_info_with_the_note_even_in_client_code(sample):
    kind = {"sk": "secret", "pk": "publishable", "rk": "restricted"}[sample[:2]]
    mode = "live" if "_live_" in sample else "test"
    v = verdict(kind, mode, sample, "dist/app.js", "NEXT_PUBLIC_KEY=")
    assert v is not None
    assert (v.severity, v.confidence, v.context, v.notes) == (
        Severity.INFO, Confidence.HIGH, (), (RULES.sample_note,)
    )  # fmt: skip


def test_a_user_rule_gets_no_stripe_body_checks():
    rule = Rule(
        "acme.token", "Acme", "", "custom", None, Severity.HIGH, r"acme_\w+", ("acme_",), ""
    )
    v = classify(RULES, rule, "acme_" + "x" * 30, "dist/app.js", "NEXT_PUBLIC_ACME=")
    assert v is not None and (v.severity, v.context, v.notes) == (Severity.HIGH, (), ())


@pytest.mark.parametrize(
    "confidence, expected",
    [(Confidence.HIGH, Confidence.MEDIUM), (Confidence.MEDIUM, Confidence.MEDIUM),
     (Confidence.LOW, Confidence.LOW)],
    ids=["high", "medium", "low"],
)  # fmt: skip
def test_split_keys_are_at_most_medium_confidence_and_keep_severity(confidence, expected):
    v = verdict("secret", "live", keys.key(seed=4), "dist/app.js")
    assert v is not None
    joined = split_verdict(v._replace(confidence=confidence, notes=("first",)), "pieces")
    assert joined == v._replace(confidence=expected, notes=("first", "pieces"))


def _b62_b64(text: str) -> str:
    """base64 of `text` without padding; the caller picks a text whose encoding is alphanumeric."""
    enc = b64(text).rstrip("=")
    assert enc.isalnum(), text
    return enc


WORKOS = _b62_b64("key_01HZQ4V2B8X7W5MNP3KDRT6Y9A")  # base64 of another vendor's `key_` prefix
STRUCTURED = "51" + keys.body(97, seed=7)  # Stripe's current structure: the account segment `51`
LEGACY = keys.body(24, seed=7)
PAYSTACK_NOTE = "The file or line names Paystack"
SVIX = "wh" + "sec_" + "MfKQ9r8GKYqr" + "TwjUPD8ILPZIo2LaLaSw"  # Svix's published docs example


@pytest.mark.parametrize(
    "kind, mode, body, before, hints, severity, note",
    [
        # a body that is base64 of `key_…` (WorkOS, Highnote): evidence from the body alone
        ("secret", "live", WORKOS, "API_KEY=", (), "low", "WorkOS or Highnote"),
        # a vendor's variable name on the line, or its host/import anywhere in the file
        ("secret", "live", keys.body(42, seed=8), "CLERK_SECRET_KEY=", (), "low", "names Clerk"),
        ("secret", "test", keys.body(42, seed=8), "CLERK_SECRET_KEY=", (), "low", "names Clerk"),
        ("secret", "live", keys.body(40, seed=8), "KEY = '", ("paystack",), "low", PAYSTACK_NOTE),
        ("secret", "test", keys.body(40, seed=8, alphabet=HEX), "KEY = '", ("paystack",), "low",
         PAYSTACK_NOTE),
        ("secret", "live", keys.body(60, seed=8), "WORKOS_API_KEY=", (), "low", "names WorkOS"),
        ("webhook", None, SVIX[6:], "Webhook('", ("svix",), "low", "names Svix"),
        # lowered below the default --fail-on even where context would raise it
        ("secret", "test", keys.body(42, seed=8), "NEXT_PUBLIC_CLERK_SECRET_KEY=", (), "low",
         "names Clerk"),
        # Stripe's own structure is never lowered, whatever the context says
        ("secret", "live", STRUCTURED, "CLERK_SECRET_KEY=", ("paystack", "clerk"), "critical", None),
        ("secret", "test", LEGACY, "PAYSTACK_SECRET_KEY=", ("paystack",), "medium", None),
        ("restricted", "live", STRUCTURED, "WORKOS_KEY=", ("workos",), "high", None),
        # the hint must name the vendor of this key type; a bare body shape is not enough
        ("secret", "live", keys.body(42, seed=8), "KEY=", ("svix",), "critical", None),
        ("webhook", None, keys.body(32, seed=8), "CLERK_WEBHOOK=", (), "high", None),
        ("webhook", None, keys.body(64, seed=8, alphabet=HEX), "k=", ("svix",), "high", None),
    ],
    ids=["workos-body", "clerk-live", "clerk-test", "paystack-nonhex", "paystack-hex",
         "workos-name", "svix-import", "clerk-next-public", "structured-99", "legacy-24",
         "structured-rk", "other-vendor-hint", "whsec-no-svix", "whsec-hex-cli"],
)  # fmt: skip
def test_lookalike_evidence_lowers_only_keys_without_stripe_structure(
    kind, mode, body, before, hints, severity, note
):
    prefix = "wh" + "sec_" if kind == "webhook" else keys.PREFIXES[(kind, mode)]
    rule_id = "stripe.webhook-secret" if kind == "webhook" else RULE_ID[(kind, mode)]
    v = classify(RULES, RULES.rule(rule_id), prefix + body, "app.py", before, frozenset(hints))
    assert v is not None and v.severity.label == severity
    assert (v.confidence == Confidence.LOW) == (note is not None)
    assert note is None or any(note in n for n in v.notes), v.notes


@pytest.mark.parametrize(
    "body, reason",
    [
        ("TESTtest" * 3, "repeats a 4-character unit"),
        ("a" * 99 + "Extra", "a run of 12 or more of one character"),
        ("Q9z" + "k" * 11 + "Lm4Tx7Pw2Rb5", None),
    ],
    ids=["case-alternating", "filler-then-junk", "run-of-11"],
)
def test_filler_placeholders(body, reason):
    assert placeholder_reason(body, RULES.placeholders) == reason


def test_lookalike_hints_are_found_case_insensitively_once_per_content():
    from leakscan.classify import lookalike_hints

    text = b"from svix.webhooks import Webhook\nrequests.post('https://API.Paystack.co/x')\n"
    assert lookalike_hints(RULES, text) == {"svix", "paystack"}
    assert lookalike_hints(RULES, b"import stripe\n") == frozenset()
