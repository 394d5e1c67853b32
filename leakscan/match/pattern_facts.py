"""Generated from rules/stripe.yaml by `python tools/rule_table.py`: do not edit (docs/rules.md)."""

# fmt: off
SOURCE_CRC32 = 0x0a31aba0

PATTERN_FACTS: dict[str, tuple[frozenset[bytes] | None, bool]] = {
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>sk_live_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'sk_live_']), True),  # stripe.secret-key.live
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>sk_test_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'sk_test_']), True),  # stripe.secret-key.test
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>(?:rk|rkcs)_live_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'rk_live_', b'rkcs_live_']), True),  # stripe.restricted-key.live
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>(?:rk|rkcs)_test_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'rk_test_', b'rkcs_test_']), True),  # stripe.restricted-key.test
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>pk_live_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'pk_live_']), True),  # stripe.publishable-key.live
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>pk_test_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'pk_test_']), True),  # stripe.publishable-key.test
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>sk_org_live_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'sk_org_live_']), True),  # stripe.organization-key.live
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>sk_org_test_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'sk_org_test_']), True),  # stripe.organization-key.test
    '(?:(?<![A-Za-z0-9_])|(?<=\\\\[ntr])|(?<=%[0-9A-Fa-f]{2})|(?<=\\\\u[0-9A-Fa-f]{4}))(?P<secret>whsec_(?:[A-Za-z0-9]{32}|[0-9a-f]{64}))(?![A-Za-z0-9_+/=-])(?!\\*|\\.\\.\\.|…|•)': (frozenset([b'whsec_']), True),  # stripe.webhook-secret
}
