"""Keys inside encodings and split into pieces: found, located at the encoded text, bounded."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from leakscan.match.decode import Limits, views
from leakscan.model import Blob, Confidence
from leakscan.scan.content import scan_blob
from tests import keys
from tests.conftest import SETTINGS, b64, findings

KEY = keys.key("secret", "live", n=99, seed=1)


@pytest.mark.parametrize(
    "text, encoding, line, column",
    [
        (f"kind: Secret\ndata:\n  STRIPE_KEY: {b64(KEY)}\n", "base64", 3, 15),
        (f"{b64('A=1' + chr(10) + 'STRIPE_KEY=' + KEY + chr(10))}\n", "base64", 1, 21),
        ('{"p": "' + b64('{"k": "' + KEY + '"}') + '"}', "base64", 1, 17),
        (f"x: {b64(b64(KEY))}\n", "base64+base64", 1, 4),
        ("https://x.test/?k=" + KEY.replace("_", "%5F") + "&a=1", "percent", 1, 19),
        ('{"k": "' + "".join(f"\\u{ord(c):04x}" for c in KEY) + '"}', "unicode-escape", 1, 8),
        ('s = "' + KEY.replace("_", "\\x5f") + '"', "hex-escape", 1, 6),
        ('<input value="' + KEY.replace("_", "&#95;") + '">', "html-entity", 1, 15),
    ],
)
def test_encoded_keys_are_found_at_the_encoded_text(text, encoding, line, column):
    (f,) = findings(text)
    loc = f.locations[0]
    assert f.secret == KEY and f.confidence == Confidence.HIGH
    assert (loc.encoding, loc.line, loc.column) == (encoding, line, column)
    assert loc.end_column > loc.column


def test_wrapped_base64_env_file():
    encoded = b64("APP=shop\n" * 3 + "STRIPE_KEY=" + KEY + "\n")
    text = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
    (f,) = findings(text)
    assert f.secret == KEY and f.locations[0].encoding == "base64"


def test_one_line_of_wrap_width_is_a_run_not_a_wrapped_block():
    """A key encoded to exactly 64 characters is still found; a 64-character name is not decoded."""
    key = keys.key("secret", "test", n=40, seed=3)
    encoded = b64(key)
    assert len(encoded) == 64
    (f,) = findings(f"{encoded} as x\nnext = 1\n")
    assert f.secret == key and f.locations[0].encoding == "base64"
    name = b"AccountSessionCreateParamsComponentsFinancialAccountTransactions"
    assert len(name) == 64
    assert list(views(name + b" as Name,\n    " + name + b",\n")) == []


def test_decoded_key_in_client_env_is_escalated_with_reason():
    k = keys.key("secret", "test")
    (f,) = findings(f"env: {b64('NEXT_PUBLIC_STRIPE=' + k)}\n")
    assert f.severity.label == "high" and "NEXT_PUBLIC_STRIPE" in f.context[0]


def test_utf16_file_with_base64_inside():
    (f,) = findings(f"data:\n  k: {b64(KEY)}\n".encode("utf-16"))
    assert f.secret == KEY and f.locations[0].encoding == "utf-16le+base64"


@pytest.mark.parametrize(
    "make",
    [
        lambda k: f'const key = "{k[:8]}" + "{k[8:]}";\n',  # JS / Java / C#
        lambda k: f'String key = "{k[:30]}" +\n    "{k[30:60]}" + "{k[60:]}";\n',
        lambda k: f'KEY = ("{k[:8]}"\n       "{k[8:]}")\n',  # Python implicit concatenation
        lambda k: f"$key = '{k[:20]}' . '{k[20:]}';\n",  # PHP
        lambda k: f"stripe --api-key {k[:25]}\\\n{k[25:]} charges list\n",  # shell continuation
    ],
)
def test_split_keys_are_joined_at_medium_confidence(make):
    (f,) = findings(make(KEY))
    assert f.secret == KEY and f.confidence == Confidence.MEDIUM
    assert f.locations[0].encoding == "split" and f.locations[0].line == 1
    assert any("pieces" in n for n in f.notes)


@pytest.mark.parametrize(
    "text",
    [
        f'k = "{KEY[:8]}" + suffix\n',
        f'k = "{KEY[:8]}" "{keys.body(10)}"\n',  # joined body too short
        f"cert: {b64(keys.body(400))}\n",
        "url = 'https://x.test/a%5Fb?c=%5F'\n",
    ],
)
def test_no_false_findings_from_decoders(text):
    assert findings(text) == ()


def test_a_whole_key_in_plain_text_is_not_reported_twice():
    (f,) = findings(f'"{KEY}" + "more"\n{KEY}\n')
    assert f.confidence == Confidence.HIGH and f.locations[0].encoding == "plain"


def _bounded(data: bytes, seconds: float, mib: int | None = None) -> None:
    """Scanning `data` takes less than `seconds` and (when `mib` is given, measured apart, since
    tracemalloc slows Python code down) a peak of less than its size plus `mib` MiB."""
    started = time.monotonic()
    scan_blob(SETTINGS, Blob("crafted", data))
    elapsed = time.monotonic() - started
    assert elapsed < seconds, elapsed
    if mib is not None:
        tracemalloc.start()
        scan_blob(SETTINGS, Blob("crafted", data))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < len(data) * 3 + mib * 2**20, peak


def test_deeply_nested_base64_stops_at_the_depth_limit():
    text = KEY
    for _ in range(12):
        text = b64(text)
    data = text.encode()
    assert len(list(views(data))) <= 2
    assert findings(b64(b64(b64(KEY)))) == ()  # a third layer is beyond Limits.max_depth
    _bounded(data, 2.0, mib=16)


def test_a_100_mb_single_line_finishes_in_bounded_time_and_memory():
    _bounded(b"Zm9vYmFy" * (100 * 2**20 // 8), 20.0, mib=16)
    _bounded(b"var a=1;" * (32 * 2**20 // 8), 10.0)


def test_a_file_of_repeated_prefix_is_bounded():
    prefix = keys.PREFIXES[("secret", "live")].encode()
    _bounded(prefix * (4 * 2**20 // len(prefix)) + b'" + "' + b"A1" * 20, 10.0)


def test_decoding_budget_caps_many_encoded_runs():
    run = b64("STRIPE=" + KEY).encode()
    data = b"\n".join([run] * 10_000)
    limits = Limits(max_regions=100)
    assert len(list(views(data, limits))) == 100


def test_escape_far_into_a_long_line_is_decoded():
    text = "x" * (3 * 2**20) + " k=" + KEY.replace("_", "%5F") + "\n"
    (f,) = findings(text)
    assert f.secret == KEY and f.locations[0].encoding == "percent"


def test_hex_dump_and_huge_wrapped_base64_are_bounded():
    _bounded(b"5f" * (8 * 2**20), 6.0)
    line = b"QUFB" * 19 + b"\n"  # 76 base64 characters a line
    _bounded(line * (20 * 2**20 // len(line)), 10.0)
