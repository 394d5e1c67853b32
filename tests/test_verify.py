"""--verify against a loopback stand-in for Stripe's API: every status, bounds, and no leaks."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from leakscan.errors import UsageError
from leakscan.verify.client import BASE_ENV, base_url
from leakscan.verify.policy import status_for
from tests import keys
from tests.conftest import run, sha256
from tests.stripe_stub import HANG, serve


def verify(
    tmp_path: Path, base: str, *extra: str, fmt: str = "json"
) -> tuple[int, dict | str, str]:
    assert base.startswith("http://127.0.0.1:")  # no request ever leaves the machine
    result = run("scan", str(tmp_path), "--verify", "--format", fmt, *extra, env={BASE_ENV: base})
    out = json.loads(result.stdout) if fmt == "json" else result.stdout
    return result.exit_code, out, result.stderr


def by_sha(doc: dict) -> dict[str, dict]:
    return {f["secret_sha256"]: f for f in doc["findings"]}


@pytest.mark.parametrize(
    ("kind", "mode", "http", "status", "severity"),
    [
        ("secret", "test", 200, "live", "high"),  # medium, raised one step
        ("restricted", "live", 403, "live", "critical"),  # a RAK without account read permission
        ("secret", "live", 200, "live", "critical"),  # never above critical
        ("secret", "live", 401, "revoked", "low"),
        ("secret", "live", 429, "unknown", "critical"),
        ("secret", "test", 500, "unknown", "medium"),
        ("restricted", "live", 503, "unknown", "high"),
    ],
)
def test_each_status_maps_to_a_verdict(tmp_path, kind, mode, http, status, severity):
    k = keys.key(kind, mode)
    (tmp_path / "a.py").write_text(f"K = '{k}'\n")
    with serve() as stub:
        stub.answer(k, http)
        code, doc, stderr = verify(tmp_path, stub.base)
    (f,) = doc["findings"]
    v = f["verification"]
    assert (v["status"], v["http_status"], f["severity"]) == (status, http, severity)
    assert v["checked_at"].endswith("Z")
    assert stub.requests[0]["path"] == "/v1/account" and stub.requests[0]["bearer"] == "True"
    assert stub.requested() == [sha256(k)]
    if status == "revoked":
        assert "rotated — remove it from history when convenient" in f["notes"]
        assert code == 0  # low: below the default --fail-on medium
    assert "request logs" in stderr and k not in stderr


def test_live_findings_rank_first(tmp_path):
    crit, test = keys.key("secret", "live"), keys.key("secret", "test")
    (tmp_path / "a.py").write_text(f"A = '{crit}'\nB = '{test}'\n")
    with serve() as stub:
        stub.answer(crit, 401)
        stub.answer(test, 200)
        code, doc, _ = verify(tmp_path, stub.base)
    assert [f["secret_sha256"] for f in doc["findings"]] == [sha256(test), sha256(crit)]
    assert code == 1
    with serve() as stub:
        stub.answer(crit, 401)
        _, text, stderr = verify(tmp_path, stub.base, fmt="text")
    assert str(text).index(test[:8] + "…") < str(text).index(crit[:8] + "…")
    assert "verified: 1 live, 1 revoked, 0 unknown" in stderr


def test_network_failures_are_unknown_never_revoked(tmp_path):
    k = keys.key("secret", "live")
    (tmp_path / "a.py").write_text(f"K = '{k}'\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends
    code, doc, _ = verify(tmp_path, refused)
    v = doc["findings"][0]["verification"]
    assert (v["status"], v["http_status"]) == ("unknown", None)
    assert "could not reach the API" in v["reason"]
    assert code == 1 and doc["findings"][0]["severity"] == "critical"


def test_a_server_that_hangs_times_out_as_unknown(tmp_path):
    k = keys.key("restricted", "live")
    (tmp_path / "a.py").write_text(f"K = '{k}'\n")
    with serve() as stub:
        stub.answer(k, HANG)
        started = time.monotonic()
        _, doc, _ = verify(tmp_path, stub.base, "--verify-timeout", "0.3")
        elapsed = time.monotonic() - started
    v = doc["findings"][0]["verification"]
    assert (v["status"], v["http_status"], v["reason"]) == (
        "unknown",
        None,
        "no answer within 0.3s",
    )
    assert elapsed < 5


def test_one_request_per_distinct_key_and_none_for_publishable_or_webhook(tmp_path):
    k = keys.key("secret", "live")
    (tmp_path / "a.py").write_text(f"A = '{k}'\nB = '{k}'\n")
    (tmp_path / "b.env").write_text(f"K={k}  # leakscan:allow\n")  # a second finding, same key
    (tmp_path / "web.js").write_text(f"Stripe('{keys.key('publishable', 'live')}')\n")
    (tmp_path / "hook.env").write_text(f"W={keys.webhook()}\nX={keys.webhook(hex64=True)}\n")
    with serve() as stub:
        _, doc, _ = verify(tmp_path, stub.base)
    assert stub.requested() == [sha256(k)]
    verified = {f["key_type"]: f["verification"] for f in doc["findings"]}
    assert verified["publishable"] is None and verified["webhook_secret"] is None
    assert all(
        f["verification"]["status"] == "live" for f in doc["findings"] if f["key_type"] == "secret"
    )


def test_no_request_for_look_alikes_or_documentation_samples(tmp_path):
    paystack = "sk_" + "live_" + keys.body(40, alphabet="0123456789abcdef")
    (tmp_path / "a.py").write_text(f"P = '{paystack}'\n")
    with serve() as stub:
        _, doc, stderr = verify(tmp_path, stub.base)
    assert stub.requests == [] and "request logs" not in stderr
    assert doc["findings"][0]["verification"] is None


def test_request_cap_leaves_the_rest_unknown(tmp_path):
    ks = [keys.key("secret", "live") for _ in range(3)]
    (tmp_path / "a.py").write_text("".join(f"K{i} = '{k}'\n" for i, k in enumerate(ks)))
    with serve() as stub:
        _, doc, _ = verify(
            tmp_path, stub.base, "--verify-max-requests", "2", "--verify-concurrency", "2"
        )
    assert len(stub.requests) == 2 and len(set(stub.requested())) == 2
    statuses = sorted(f["verification"]["status"] for f in doc["findings"])
    assert statuses == ["live", "live", "unknown"]
    capped = next(
        f["verification"] for f in doc["findings"] if f["verification"]["status"] == "unknown"
    )
    assert capped["checked_at"] is None and "over the cap of 2" in capped["reason"]


def test_organization_keys_send_version_and_context(tmp_path):
    org = keys.key("organization", "live", n=224)
    (tmp_path / "a.py").write_text(f"K = '{org}'\n")
    with serve() as stub:
        stub.answer(org, 400)
        _, doc, _ = verify(tmp_path, stub.base)
        verify(tmp_path, stub.base, "--stripe-context", "acct_123")
    first, second = stub.requests
    assert first["stripe_version"] and first["stripe_context"] == ""
    assert second["stripe_context"] == "acct_123"
    v = doc["findings"][0]["verification"]
    assert v["status"] == "unknown" and "--stripe-context" in v["reason"]


def test_redirects_are_never_followed(tmp_path):
    k = keys.key("secret", "live")
    (tmp_path / "a.py").write_text(f"K = '{k}'\n")
    with serve() as elsewhere, serve(302, elsewhere.base + "/v1/account") as stub:
        _, doc, _ = verify(tmp_path, stub.base)
    assert len(stub.requests) == 1 and elsewhere.requests == []
    v = doc["findings"][0]["verification"]
    assert (v["status"], v["http_status"]) == ("unknown", 302)


def test_the_key_never_appears_in_any_output(tmp_path):
    ks = [keys.key("secret", "live"), keys.key("restricted", "live"), keys.key("secret", "test")]
    (tmp_path / "a.py").write_text("".join(f"K{i} = '{k}'\n" for i, k in enumerate(ks)))
    with serve() as stub:
        stub.answer(ks[0], 401)
        stub.answer(ks[1], HANG)
        for fmt in ("text", "json"):
            _, out, err = verify(tmp_path, stub.base, "-v", "--verify-timeout", "0.2", fmt=fmt)
            text = json.dumps(out) if fmt == "json" else str(out)
            for k in ks:
                assert k not in text and k not in err
            if fmt == "text":
                assert "verified: revoked (HTTP 401" in text and "verified: live (HTTP 200" in text
                assert "verified: unknown (no answer" in text
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}"
    _, out, err = verify(tmp_path, refused, fmt="text")
    assert all(k not in str(out) + err for k in ks)


def test_verification_is_off_by_default(tmp_path):
    k = keys.key("secret", "live")
    (tmp_path / "a.py").write_text(f"K = '{k}'\n")
    with serve() as stub:
        result = run("scan", str(tmp_path), "--format", "json", env={BASE_ENV: stub.base})
    assert stub.requests == [] and "request logs" not in result.stderr
    assert json.loads(result.stdout)["findings"][0]["verification"] is None


def test_base_url_must_be_https_or_loopback(tmp_path):
    assert base_url({}) == "https://api.stripe.com"
    assert base_url({BASE_ENV: "http://127.0.0.1:9/"}) == "http://127.0.0.1:9"
    assert base_url({BASE_ENV: "https://proxy.example/"}) == "https://proxy.example"
    bad_urls = ("http://api.stripe.com", "ftp://127.0.0.1", "http://10.0.0.1:80", "nonsense",
                "https://127.0.0.1:99999")  # fmt: skip
    for bad in bad_urls:
        with pytest.raises(UsageError):
            base_url({BASE_ENV: bad})
    (tmp_path / "a.py").write_text(f"K = '{keys.key()}'\n")
    result = run("scan", str(tmp_path), "--verify", env={BASE_ENV: "http://example.com"})
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "https://" in result.stderr


def test_status_policy_never_calls_a_failure_revoked():
    for code in (400, 402, 404, 408, 429, 500, 502, 503, 504):
        assert status_for(code, "secret")[0] == "unknown"
    assert status_for(401, "organization")[0] == "revoked"
    assert status_for(403, "restricted")[0] == status_for(200, "secret")[0] == "live"


def test_stripe_context_is_validated_before_any_request(tmp_path):
    (tmp_path / "a.py").write_text(f"K = '{keys.key('organization', 'live')}'\n")
    with serve() as stub:
        result = run("scan", str(tmp_path), "--verify", "--stripe-context", "acct_1\r\nX-Evil: 1",
                     env={BASE_ENV: stub.base})  # fmt: skip
    assert result.exit_code == 2 and "--stripe-context takes an account id" in result.stderr
    assert stub.requests == []


def test_loopback_requests_never_go_through_a_configured_proxy(tmp_path):
    k = keys.key("secret", "live")
    (tmp_path / "a.py").write_text(f"K = '{k}'\n")
    with serve() as proxy, serve() as stub:
        env = {BASE_ENV: stub.base, "http_proxy": proxy.base, "HTTP_PROXY": proxy.base,
               "no_proxy": "", "NO_PROXY": ""}  # fmt: skip
        result = run("scan", str(tmp_path), "--verify", "--format", "json", env=env)
    assert proxy.requests == [] and stub.requested() == [sha256(k)]
    assert json.loads(result.stdout)["findings"][0]["verification"]["status"] == "live"


def test_verification_reaches_sarif_properties(tmp_path):
    from tests.sarif_check import assert_valid_sarif

    live, gone = keys.key("secret", "live"), keys.key("restricted", "live")
    (tmp_path / "a.py").write_text(f"A = '{live}'\nB = '{gone}'\n")
    with serve() as stub:
        stub.answer(live, 200)
        stub.answer(gone, 401)
        _code, out, _stderr = verify(tmp_path, stub.base, fmt="sarif")
    assert isinstance(out, str) and live not in out and gone not in out
    doc = assert_valid_sarif(out)
    results = doc["runs"][0]["results"]
    got = {r["properties"]["secretSha256"]: r["properties"]["verification"] for r in results}
    assert got[sha256(live)]["status"] == "live" and got[sha256(live)]["httpStatus"] == 200
    assert got[sha256(gone)]["status"] == "revoked" and got[sha256(gone)]["httpStatus"] == 401
