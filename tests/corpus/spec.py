"""The labelled accuracy corpus, generated at run time (no key literals in the repository).

Each case is one file shaped like a place keys really appear (code, config, CI files, notebooks, logs,
chat exports, mobile resources, encoded secrets) or like the public test fixtures of gitleaks,
trufflehog, Kingfisher, detect-secrets and secretlint (re-synthesised: their shapes, fresh random
bodies). `expected` are the Stripe credentials a correct scanner reports; `ambiguous` values may be
reported or not (another vendor's token with a Stripe shape). Documentation samples are expected to be
reported at `info` only, so they are not in `expected` (see docs/accuracy.md for the scoring rules).
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import b64

B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
KINDS = (
    ("secret", "live", "sk_" + "live_"),
    ("secret", "test", "sk_" + "test_"),
    ("restricted", "live", "rk_" + "live_"),
    ("restricted", "test", "rk_" + "test_"),
    ("publishable", "live", "pk_" + "live_"),
    ("publishable", "test", "pk_" + "test_"),
    ("organization", "live", "sk_org_" + "live_"),
    ("organization", "test", "sk_org_" + "test_"),
    ("webhook_secret", None, "wh" + "sec_"),
)


@dataclass(frozen=True, slots=True)
class Key:
    kind: str
    mode: str | None
    value: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    path: str  # relative file name, with the extension the format uses
    content: bytes = field(repr=False)
    expected: tuple[Key, ...]
    source: str  # where the shape comes from
    ambiguous: tuple[str, ...] = field(default=(), repr=False)
    reason: str = ""  # why the case is labelled so (look-alikes: the evidence)
    severity: str | None = None  # look-alike cases: the severity leakscan reports (e2e test)


class Maker:
    """Fresh random key bodies from one seed."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def body(self, n: int, alphabet: str = B62) -> str:
        while True:
            s = "".join(self.rnd.choice(alphabet) for _ in range(n))
            if alphabet != B62 or (any(c.isdigit() for c in s) and any(c.isupper() for c in s)):
                return s

    def key(self, index: int, n: int | None = None) -> Key:
        kind, mode, prefix = KINDS[index % len(KINDS)]
        if kind == "webhook_secret":
            body = self.body(64, HEX) if index % 2 else self.body(32)
        else:
            body = self.body(
                n or self.rnd.choice((24, 32, 99, 107, 224 if kind == "organization" else 99))
            )
        return Key(kind, mode, prefix + body)


# Positive templates: key -> (file name, text). Each runs with several kinds.
Template = Callable[[str], tuple[str, str]]
POSITIVE: dict[str, tuple[str, Template]] = {
    "env": ("DESIGN", lambda k: (".env", f"DATABASE_URL=postgres://db\nSTRIPE_KEY={k}\n")),
    "env-quoted": ("DESIGN", lambda k: (".env.production", f'STRIPE_KEY="{k}"\nDEBUG=0\n')),
    "env-export": ("DESIGN", lambda k: ("setup.sh", f"#!/bin/sh\nexport STRIPE_KEY='{k}'\n")),
    "json-newline": (
        "DESIGN",
        lambda k: ("config.json", json.dumps({"note": "x", "key": "\n" + k}) + "\n"),
    ),
    "json": (
        "DESIGN",
        lambda k: ("settings.json", json.dumps({"stripe": {"apiKey": k}}, indent=2)),
    ),
    "url-pct20": ("DESIGN", lambda k: ("links.txt", f"https://example.test/cb?q=a%20{k}&x=1\n")),
    "url-pct3d": ("DESIGN", lambda k: ("access.log", f'GET /hook?token%3D{k} HTTP/1.1" 200\n')),
    "curl-u": (
        "DESIGN",
        lambda k: ("README.md", f"```\ncurl https://api.stripe.com/v1/charges -u {k}:\n```\n"),
    ),
    "yaml": ("DESIGN", lambda k: ("config.yml", f"stripe:\n  secret_key: {k}\n  currency: usd\n")),
    "minified-js": (
        "DESIGN",
        lambda k: ("vendor.min.js", f'!function(e){{var t="{k}";e.k=t}}(window);'),
    ),
    "csv": ("DESIGN", lambda k: ("keys.csv", f"id,name,key\n1,shop,{k}\n")),
    "markdown": ("DESIGN", lambda k: ("NOTES.md", f"Use `{k}` for the **shop**.\n")),
    "cjk": ("DESIGN", lambda k: ("说明.txt", f"密钥是{k}。请勿外传。\n")),
    "crlf": ("DESIGN", lambda k: ("app.ini", f"[stripe]\r\nkey = {k}\r\n")),
    "tab": ("DESIGN", lambda k: ("data.tsv", f"name\tkey\nshop\t{k}\n")),
    "python": ("code", lambda k: ("billing.py", f'import stripe\nstripe.api_key = "{k}"\n')),
    "ruby": ("code", lambda k: ("stripe.rb", f"Stripe.api_key = '{k}'\n")),
    "php": ("code", lambda k: ("config.php", f"<?php\n\\Stripe\\Stripe::setApiKey('{k}');\n")),
    "go": ("code", lambda k: ("main.go", f'package main\n\nconst stripeKey = "{k}"\n')),
    "java": (
        "code",
        lambda k: ("Billing.java", f'class B {{ static final String KEY = "{k}"; }}\n'),
    ),
    "csharp": ("code", lambda k: ("Billing.cs", f'StripeConfiguration.ApiKey = "{k}";\n')),
    "swift": ("mobile", lambda k: ("Config.swift", f'let stripeKey = "{k}"\n')),
    "kotlin": ("mobile", lambda k: ("Config.kt", f'val stripeKey = "{k}"\n')),
    "strings-xml": (
        "mobile",
        lambda k: (
            "strings.xml",
            f'<resources>\n  <string name="stripe">{k}</string>\n</resources>\n',
        ),
    ),
    "plist": (
        "mobile",
        lambda k: (
            "Info.plist",
            f"<dict>\n\t<key>StripeKey</key>\n\t<string>{k}</string>\n</dict>\n",
        ),
    ),
    "next-public": ("context", lambda k: (".env.local", f"NEXT_PUBLIC_STRIPE_KEY={k}\n")),
    "bundle": (
        "context",
        lambda k: ("dist/app.js", f'const cfg={{stripe:"{k}"}};export default cfg;\n'),
    ),
    "ipynb": (
        "notebook",
        lambda k: (
            "analysis.ipynb",
            json.dumps(
                {
                    "cells": [
                        {
                            "cell_type": "code",
                            "source": ["import stripe\n", f"stripe.api_key = '{k}'\n"],
                        }
                    ]
                },
                indent=1,
            ),
        ),
    ),
    "dockerfile": (
        "container",
        lambda k: ("Dockerfile", f'FROM python:3.12\nENV STRIPE_KEY={k}\nCMD ["app"]\n'),
    ),
    "compose": (
        "container",
        lambda k: (
            "docker-compose.yml",
            f"services:\n  web:\n    environment:\n      - STRIPE_KEY={k}\n",
        ),
    ),
    "terraform": (
        "iac",
        lambda k: ("main.tf", f'resource "stripe_webhook" "x" {{\n  api_key = "{k}"\n}}\n'),
    ),
    "tfvars": ("iac", lambda k: ("prod.tfvars", f'stripe_key = "{k}"\n')),
    "gh-workflow": (
        "ci",
        lambda k: (
            ".github/workflows/ci.yml",
            f"jobs:\n  test:\n    env:\n      STRIPE_KEY: {k}\n",
        ),
    ),
    "log": (
        "log",
        lambda k: (
            "server.log",
            f"2024-05-01T10:00:00Z ERROR stripe auth failed key={k} status=401\n",
        ),
    ),
    "log-json": (
        "log",
        lambda k: (
            "events.jsonl",
            json.dumps({"level": "debug", "headers": {"Authorization": "Bearer " + k}}) + "\n",
        ),
    ),
    "chat-slack": (
        "chat",
        lambda k: (
            "slack-export.json",
            json.dumps([{"user": "U1", "text": f"here is the key: {k} don't share"}]),
        ),
    ),
    "chat-txt": ("chat", lambda k: ("chat.txt", f"[10:02] alice: try {k}\n[10:03] bob: thanks!\n")),
    "html": ("web", lambda k: ("index.html", f'<script>Stripe("{k}");</script>\n')),
    "sql": ("data", lambda k: ("seed.sql", f"INSERT INTO settings VALUES ('stripe', '{k}');\n")),
    "toml": ("config", lambda k: ("config.toml", f'[stripe]\nkey = "{k}"\n')),
    "properties": ("config", lambda k: ("application.properties", f"stripe.key={k}\n")),
    "k8s-secret-b64": (
        "encoded",
        lambda k: ("secret.yaml", f"apiVersion: v1\nkind: Secret\ndata:\n  STRIPE_KEY: {b64(k)}\n"),
    ),
    "env-b64": ("encoded", lambda k: (".env.b64", b64(f"A=1\nSTRIPE_KEY={k}\nB=2\n") + "\n")),
    "env-b64-wrapped": (
        "encoded",
        lambda k: (".env.base64", _wrap(b64(f"APP=shop\nSTRIPE_KEY={k}\n"), 76)),
    ),
    "json-b64": (
        "encoded",
        lambda k: ("blob.json", json.dumps({"payload": b64(json.dumps({"key": k}))})),
    ),
    "nested-b64": ("encoded", lambda k: ("double.yaml", f"data:\n  x: {b64(b64(k))}\n")),
    "percent-underscore": (
        "encoded",
        lambda k: ("form.txt", f"key={k.replace('_', '%5F')}&amount=100\n"),
    ),
    "unicode-escape": (
        "encoded",
        lambda k: ("data.json", '{"k": "' + "".join(f"\\u{ord(c):04x}" for c in k) + '"}\n'),
    ),
    "hex-escape": ("encoded", lambda k: ("gen.py", 'K = "' + k.replace("_", "\\x5f") + '"\n')),
    "html-entity": (
        "encoded",
        lambda k: ("form.html", '<input value="' + k.replace("_", "&#95;") + '">\n'),
    ),
    "concat-js": (
        "split",
        lambda k: ("pay.js", f'const key = "{_prefix(k)}" + "{k[len(_prefix(k)) :]}";\n'),
    ),
    "concat-java": (
        "split",
        lambda k: ("Pay.java", f'String key = "{k[:12]}" +\n    "{k[12:]}";\n'),
    ),
    "py-implicit": ("split", lambda k: ("pay.py", f'KEY = (\n    "{k[:16]}"\n    "{k[16:]}"\n)\n')),
    "shell-continuation": (
        "split",
        lambda k: ("run.sh", f"stripe --api-key {k[:20]}\\\n{k[20:]} charges list\n"),
    ),
    # public test fixtures, re-synthesised
    "gitleaks-go": ("gitleaks", lambda k: ("stripe_test.go", f'stripeToken := "{k}"\n')),
    "trufflehog-text": (
        "trufflehog",
        lambda k: ("stripe_test.txt", f"stripe secret {k} in text\n"),
    ),
    "kingfisher-yaml": (
        "kingfisher",
        lambda k: ("stripe.yml", f"examples:\n  - STRIPE_API_KEY={k}\n"),
    ),
    "detect-secrets-py": ("detect-secrets", lambda k: ("test_stripe.py", f"key = '{k}'\n")),
    "secretlint-text": ("secretlint", lambda k: ("secretlint.txt", f"THIS IS SECRET: {k}\n")),
}
KINDS_PER_TEMPLATE = 4


def _prefix(k: str) -> str:
    return k[: k.rfind("_", 0, 16) + 1]


def _wrap(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) + "\n"


def positive_cases(maker: Maker) -> list[Case]:
    out = []
    for t, (name, (source, template)) in enumerate(POSITIVE.items()):
        for j in range(KINDS_PER_TEMPLATE):
            key = maker.key(t + j * 2)
            path, text = template(key.value)
            out.append(
                Case(f"{name}-{j}", _in_dir(f"{name}-{j}", path), text.encode(), (key,), source)
            )
    return out


def _in_dir(case: str, path: str) -> str:
    return f"{case}/{path}"


def special_cases(maker: Maker) -> list[Case]:
    """Files with more than one key, UTF-16 files, and the longest keys."""
    out = []
    keys = [maker.key(i) for i in range(9)]
    text = "".join(f"K{i}={k.value}\n" for i, k in enumerate(keys))
    out.append(Case("all-kinds", "all-kinds/.env", text.encode(), tuple(keys), "DESIGN"))
    for i, codec in enumerate(("utf-16", "utf-16-le", "utf-16-be")):
        k = maker.key(i * 3)
        out.append(
            Case(
                f"utf16-{i}",
                f"utf16-{i}/keys.txt",
                f"a = 1\nkey = {k.value}\n".encode(codec),
                (k,),
                "encoded",
            )
        )
    for i in (0, 6, 7):
        k = maker.key(i, n=247 if i == 0 else 224)
        out.append(
            Case(f"long-{i}", f"long-{i}/k.env", f"KEY={k.value}\n".encode(), (k,), "DESIGN")
        )
    return out


def negative_cases(maker: Maker, documentation_samples: tuple[str, ...]) -> list[Case]:
    live, test = "sk_" + "live_", "sk_" + "test_"
    pk_test = "pk_" + "test_"
    body = maker.body
    texts: dict[str, tuple[str, str, str]] = {
        # placeholders (DESIGN §1)
        "ph-x": ("placeholder", ".env.example", f"STRIPE_KEY={live}{'x' * 32}\n"),
        "ph-X": ("placeholder", "README.md", f"`{test}{'X' * 24}`\n"),
        "ph-your": ("placeholder", "config.yml", f"key: {live}YOURSECRETKEYGOESHERE1234\n"),
        "ph-example": ("placeholder", "docs.md", f"{test}abcEXAMPLEdef4567890ABCDE\n"),
        "ph-replace": ("placeholder", ".env.sample", f"KEY={live}replaceWithYourKey0000000\n"),
        "ph-seq": ("placeholder", "t.py", f"k = '{test}0123456789abcdefghijklmn'\n"),
        "ph-abab": ("placeholder", "t.js", f"k = '{live}{'ab' * 15}'\n"),
        "ph-zeros": ("placeholder", "t.rb", f"k = '{live}{'0' * 30}'\n"),
        "ph-mask-star": ("placeholder", "log.txt", f"using {live}{body(8)}****************\n"),
        "ph-mask-dots": ("placeholder", "log2.txt", f"using {live}{body(24)}...\n"),
        "ph-mask-ellipsis": ("placeholder", "log3.txt", f"using {live}{body(24)}…\n"),
        "ph-angle": ("placeholder", "README.md", f"STRIPE_KEY={live}<your key>\n"),
        "ph-bullets": ("placeholder", "ui.txt", f"{live}••••••••••••••••{body(4)}\n"),
        "ph-redacted": ("placeholder", "r.txt", f"{live}REDACTEDREDACTEDREDACTED\n"),
        "ph-changeme": ("placeholder", "c.env", f"K={test}changemechangemechangeme1\n"),
        # other vendors with Stripe-like shapes
        "apideck": ("other-vendor", "apideck.env", f"APIDECK={live}{body(20)}-{body(12)}\n"),
        "apideck-underscore": ("other-vendor", "a.env", f"X={test}{body(24)}_{body(10)}\n"),
        "clerk-pk": (
            "other-vendor",
            "clerk.env",
            f"NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY={pk_test}{_clerk_body(maker)}\n",
        ),
        "clerk-pk-live": (
            "other-vendor",
            "clerk2.env",
            f"CLERK_PK={'pk_' + 'live_'}{_clerk_body(maker)}\n",
        ),
        "elevenlabs": ("other-vendor", "eleven.env", f"ELEVENLABS_API_KEY=sk_{body(48, HEX)}\n"),
        "svix": (
            "other-vendor",
            "svix.env",
            f"SVIX_SECRET={'wh' + 'sec_'}{body(20)}+{body(6)}/{body(4)}\n",
        ),
        "svix-padded": ("other-vendor", "svix2.env", f"S={'wh' + 'sec_'}{body(32)}==\n"),
        "svix-long": ("other-vendor", "svix3.env", f"S={'wh' + 'sec_'}{body(44)}\n"),
        # near misses
        "nm-ask": ("near-miss", "n1.txt", f"a{live}{body(30)}\n"),
        "nm-task": ("near-miss", "n2.go", f'nonMatchingToken := "ta{test}{body(30)}"\n'),
        "nm-xsk": ("near-miss", "n3.txt", f"x{live}{body(30)}\n"),
        "nm-underscore": ("near-miss", "n4.txt", f"my_{live}{body(30)}\n"),
        "nm-prod": ("near-miss", "n5.env", f"K=sk_prod_{body(30)}\n"),
        "nm-dev": ("near-miss", "n6.env", f"K=sk_dev_{body(30)}\n"),
        "nm-upper": ("near-miss", "n7.env", f"K=SK_LIVE_{body(30)}\n"),
        "nm-short": ("near-miss", "n8.env", f"K={live}{body(20)}\n"),
        "nm-toolong": ("near-miss", "n9.env", f"K={live}{body(260)}\n"),
        "nm-whsec-short": ("near-miss", "n10.env", f"K={'wh' + 'sec_'}{body(24)}\n"),
        "nm-whsec-hex63": ("near-miss", "n11.env", f"K={'wh' + 'sec_'}{body(63, HEX)}\n"),
        "nm-identifier": (
            "near-miss",
            "n12.py",
            "def run_live_test_suite(): return self._test_case_live_\n",
        ),
        "nm-rk-dash": ("near-miss", "n13.env", f"K={'rk_' + 'live_'}{body(30)}-{body(5)}\n"),
        "nm-b64-noise": ("near-miss", "n14.yaml", f"data:\n  cert: {b64(body(300))}\n"),
        "nm-concat-var": ("near-miss", "n15.js", f'const k = "{live}" + process.env.SUFFIX;\n'),
        "nm-concat-short": ("near-miss", "n16.py", f'k = "{live}" "{body(10)}"\n'),
    }
    out = [
        Case(name, f"{name}/{path}", text.encode(), (), source)
        for name, (source, path, text) in texts.items()
    ]
    paystack = "sk_" + "live_" + body(40, HEX)
    out.append(
        Case(
            "paystack",
            "paystack/.env",
            f"PAYSTACK_SECRET_KEY={paystack}\n".encode(),
            (),
            "other-vendor",
            (paystack,),
        )
    )
    paystack_pk = "pk_" + "test_" + body(40, HEX)
    out.append(
        Case(
            "paystack-pk",
            "paystack-pk/.env",
            f"PAYSTACK_PUBLIC_KEY={paystack_pk}\n".encode(),
            (),
            "other-vendor",
            (paystack_pk,),
        )
    )
    for i, sample in enumerate(documentation_samples):
        out.append(
            Case(
                f"docs-sample-{i}",
                f"docs-sample-{i}/quickstart.py",
                f"stripe.api_key = '{sample}'\n".encode(),
                (),
                "docs-sample",
            )
        )
    return out


def _clerk_body(maker: Maker) -> str:
    """Clerk publishable keys are base64 of `<instance>.clerk.accounts.dev$`."""
    while True:
        name = maker.body(8, string.ascii_lowercase) + "-" + maker.body(6, string.ascii_lowercase)
        enc = b64(f"{name}.clerk.accounts.dev$").rstrip("=")
        if enc.isalnum():
            return enc


def lookalike_cases(maker: Maker) -> list[Case]:
    """Other vendors' keys that leakscan reports below the default --fail-on (ambiguous: neither right
    nor wrong), filler placeholders (not reported), and Stripe-structured keys beside the same
    evidence (expected, never lowered). Issue 18; docs/rules.md "Look-alikes"."""
    live, test, rk_live = "sk_" + "live_", "sk_" + "test_", "rk_" + "live_"
    body = maker.body
    workos = live + _workos_body(maker)
    clerk_live, clerk_test = live + body(42), test + body(42)
    paystack_nonhex, paystack_hex = live + body(40), test + body(40, HEX)
    svix = "wh" + "sec_" + "MfKQ9r8GKYqr" + "TwjUPD8ILPZIo2LaLaSw"  # Svix's published docs example
    structured = live + "51" + body(97)
    legacy, clerk_beside = test + body(24), test + body(42)
    paystack_call = "requests.post('https://api.paystack.co/transaction/initialize', headers=h)\n"
    rows = [
        ("workos", "workos/.env", f"API_KEY={workos}\n", (), (workos,), "low",
         "body is base64 of `key_…` (WorkOS/Highnote)"),
        ("clerk-sk-live", "clerk-sk/.env", f"CLERK_SECRET_KEY={clerk_live}\n", (), (clerk_live,),
         "low", "variable CLERK_SECRET_KEY, 42-char body"),
        ("clerk-sk-test", "clerk-sk-test/.env.local", f"CLERK_SECRET_KEY={clerk_test}\n", (),
         (clerk_test,), "low", "variable CLERK_SECRET_KEY, 42-char body"),
        ("paystack-nonhex", "paystack-nonhex/pay.py",
         f"import requests\nKEY = '{paystack_nonhex}'\nh = {{'Authorization': 'Bearer ' + KEY}}\n"
         + paystack_call, (), (paystack_nonhex,), "low", "file calls api.paystack.co"),
        ("paystack-hex-call", "paystack-hex-call/pay.js",
         (f"const key = '{paystack_hex}';\nfetch('https://api.paystack.co/charge', {{headers: "
          "{Authorization: `Bearer ${key}`}});\n"), (), (paystack_hex,), "low",
         "40 hex and the file calls api.paystack.co"),
        ("svix-docs", "svix-docs/hooks.py",
         f"from svix.webhooks import Webhook\n\nwh = Webhook('{svix}')\n", (), (svix,), "low",
         "Svix's published example secret beside `from svix.webhooks import Webhook`"),
        ("ph-case-alternating", "ph-case-alternating/.env",
         f"KEY={rk_live}{'TEST' + 'test'}{'TEST' + 'test'}{'TEST' + 'test'}\n", (), (), None,
         "placeholder: a repeated case-alternating word"),
        ("ph-filler-junk", "ph-filler-junk/.env", f"KEY={live}{'a' * 99}Extra\n", (), (), None,
         "placeholder: a filler run followed by junk"),
        ("structured-paystack", "structured-paystack/pay.py",
         f"STRIPE_KEY = '{structured}'\n" + paystack_call, (Key("secret", "live", structured),),
         (), "critical", "Stripe structure (99 chars from 51) beside Paystack: never lowered"),
        ("legacy-clerk", "legacy-clerk/.env",
         f"CLERK_SECRET_KEY={clerk_beside}\nSTRIPE_SECRET_KEY={legacy}\n",
         (Key("secret", "test", legacy),), (clerk_beside,), "medium",
         "legacy 24-char Stripe body in a Clerk file: never lowered"),
    ]  # fmt: skip
    return [
        Case(name, path, text.encode(), expected, "lookalike", ambiguous, reason, severity)
        for name, path, text, expected, ambiguous, severity, reason in rows
    ]


def _workos_body(maker: Maker) -> str:
    """WorkOS (and Highnote) secret keys: `sk_live_` + base64 of `key_…`."""
    while True:
        enc = b64("key_" + maker.body(26, string.ascii_uppercase + string.digits)).rstrip("=")
        if enc.isalnum():
            return enc


def build(documentation_samples: tuple[str, ...], seed: int = 6) -> list[Case]:
    maker = Maker(seed)
    return (
        positive_cases(maker)
        + special_cases(maker)
        + negative_cases(maker, documentation_samples)
        + lookalike_cases(maker)  # last: the cases above keep their bodies
    )


def materialise(cases: list[Case], root: Path) -> Path:
    """Write one file per case under `root` and the truth to `root/../<name>.truth.json`; returns it."""
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for case in cases:
        target = root / case.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(case.content)
        truth[case.path] = {
            "case": case.name,
            "source": case.source,
            "expected": [{"kind": k.kind, "mode": k.mode, "value": k.value} for k in case.expected],
            "ambiguous": list(case.ambiguous),
            **({"reason": case.reason} if case.reason else {}),
        }
    path = root.parent / f"{root.name}.truth.json"
    path.write_text(json.dumps(truth, indent=1, sort_keys=True))
    return path
