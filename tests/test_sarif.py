"""SARIF for code scanning: valid against both schemas, stable rules, redacted, capped."""

from __future__ import annotations

import json

from jschema_to_python.to_json import to_json

from leakscan.model import Confidence, Finding, Location, ScanResult, ScanSummary, Severity
from leakscan.report import sarif
from leakscan.report.options import RenderOptions
from leakscan.settings import load_rules
from tests import keys
from tests.conftest import commit_file, plant, run, sha256
from tests.sarif_check import assert_valid_sarif

SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.0", "low": "3.0", "info": None}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def test_every_kind_of_finding_is_valid_redacted_sarif(tmp_path):
    live, test, hook, allowed = (keys.key("secret", "live"), keys.key("secret", "test"),
                                 keys.webhook(), keys.key("restricted", "live"))  # fmt: skip
    plant(tmp_path, "src/app.py", f"KEY = '{live}'\n")
    plant(tmp_path, "odd dir/na%me,#1.py", f"\tT = '{test}'\n")
    plant(tmp_path, "hooks.js", f"const w = '{hook}'; // leakscan:allow\n")
    plant(tmp_path, "ops/rk.env", f"RK={allowed}\n")
    plant(tmp_path, ".leakscan.yaml",
          f"allow-secrets: ['{sha256(allowed)}']\n")  # fmt: skip
    for extra in ((), ("--show-secrets",)):
        result = run("scan", str(tmp_path), "--format", "sarif", *extra)
        assert result.exit_code == 1, result.stderr
        for k in (live, test, hook, allowed):
            assert k not in result.stdout  # not even with --show-secrets: SARIF is uploaded
        doc = assert_valid_sarif(result.stdout)
    run_ = doc["runs"][0]
    assert run_["automationDetails"]["id"] == "leakscan/paths/"
    assert run_["columnKind"] == "unicodeCodePoints"
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert set(rules) == {r.id for r in load_rules(()).rules}
    for rule in load_rules(()).rules:
        d = rules[rule.id]
        assert d["properties"].get("security-severity") == SECURITY_SEVERITY[rule.severity.label]
        assert "security" in d["properties"]["tags"] and d["properties"]["precision"]
        assert d["help"]["text"] == rule.remediation and rule.remediation in d["help"]["markdown"]
        assert d["helpUri"] == rule.references[0]
        assert d["shortDescription"]["text"] == rule.title and d["fullDescription"]["text"]
    by_rule = {r["ruleId"]: r for r in run_["results"]}
    assert set(by_rule) == {"stripe.secret-key.live", "stripe.secret-key.test",
                            "stripe.webhook-secret", "stripe.restricted-key.live"}  # fmt: skip
    for r in run_["results"]:
        assert run_["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert set(r["partialFingerprints"]) == {"leakscan/secret-sha256/v1"}
        assert "primaryLocationLineHash" not in json.dumps(r)
        assert r.get("level", "warning") == LEVEL[r["properties"]["severity"]]
    live_r = by_rule["stripe.secret-key.live"]
    loc = live_r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 1, "startColumn": 8, "endColumn": 8 + len(live)}
    assert live_r["partialFingerprints"]["leakscan/secret-sha256/v1"] == sha256(live)
    assert live[:8] + "…" + live[-4:] in live_r["message"]["text"]
    assert "suppressions" not in live_r
    odd = by_rule["stripe.secret-key.test"]["locations"][0]["physicalLocation"]
    assert odd["artifactLocation"]["uri"] == "odd%20dir/na%25me%2C%231.py"
    assert odd["region"]["startColumn"] == 7  # the tab counts as one code point
    assert by_rule["stripe.webhook-secret"]["suppressions"][0]["kind"] == "inSource"
    config_s = by_rule["stripe.restricted-key.live"]["suppressions"][0]
    assert config_s["kind"] == "external" and config_s["status"] == "accepted"


def test_history_finding_carries_its_commit(repo):
    k = keys.key("secret", "live")
    sha = commit_file(repo, "settings.py", f"KEY = '{k}'\n", "add key")
    commit_file(repo, "settings.py", "KEY = os.environ['KEY']\n", "remove key")
    result = run("scan", str(repo), "--history", "--format", "sarif")
    assert result.exit_code == 1 and k not in result.stdout
    doc = assert_valid_sarif(result.stdout)
    (r,) = doc["runs"][0]["results"]
    assert r["properties"]["commit"] == sha and r["properties"]["presentAtHead"] is False
    assert r["locations"][0]["properties"]["commit"] == sha
    assert "history only" in r["message"]["text"] and sha[:12] in r["message"]["text"]
    assert doc["runs"][0]["automationDetails"]["id"] == "leakscan/history/"


def test_a_key_in_two_places_is_one_result_with_related_locations(repo):
    k = keys.key("secret", "test")
    commit_file(repo, "a.py", f"A = '{k}'\n")
    commit_file(repo, "b.py", f"B = '{k}'\n")
    doc = assert_valid_sarif(run("scan", str(repo), "--format", "sarif").stdout)
    (r,) = doc["runs"][0]["results"]
    assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.py"
    assert r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "b.py"
    assert r["relatedLocations"][0]["id"] == 1


def test_clean_scan_is_valid_sarif_with_every_rule(tmp_path):
    plant(tmp_path, "a.py", "print('hello')\n")
    result = run("scan", str(tmp_path), "--format", "sarif")
    assert result.exit_code == 0
    doc = assert_valid_sarif(result.stdout)
    assert doc["runs"][0]["results"] == []
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")


def test_serialize_agrees_with_jschema_to_python():
    rules = load_rules(())
    locs = (Location("a b.py", 2, 3, 40, commit="c" * 40, author_date="2024-01-01T00:00:00Z"),
            Location("c.py", 1, 1, 30))  # fmt: skip
    finding = Finding("stripe.secret-key.live", "secret", "live", Severity.CRITICAL, Confidence.HIGH,
                      "0" * 64, "sk_live_…abcd", False, locs, "Rotate it.")  # fmt: skip
    log = sarif.build_log(ScanResult(ScanSummary("t", "history", 0, 1, 9), (finding,)), rules,
                          RenderOptions(tool_version="1.2.3"))  # fmt: skip
    assert json.loads(sarif.serialize(log)) == json.loads(to_json(log))
    assert_valid_sarif(sarif.serialize(log))


def test_more_than_25000_results_are_capped_and_the_cli_says_so(tmp_path):
    lines = [keys.key("secret", "test", n=24, seed=i) for i in range(sarif.MAX_RESULTS + 1)]
    plant(tmp_path, "many.txt", "\n".join(lines) + "\n")
    out = tmp_path / "out.sarif"
    result = run("scan", str(tmp_path / "many.txt"), "--format", "sarif", "-o", str(out),
                 "--fail-on", "never")  # fmt: skip
    assert result.exit_code == 0
    assert "this SARIF holds the first 25000" in result.stderr
    doc = json.loads(out.read_text())
    run_ = doc["runs"][0]
    assert len(run_["results"]) == 25_000
    assert run_["properties"]["leakscan/truncated"] is True
    assert run_["properties"]["leakscan/totalResults"] == 25_001
    (note,) = run_["invocations"][0]["toolExecutionNotifications"]
    assert "25000" in note["message"]["text"] and note.get("level", "warning") == "warning"
    # Validating 25,000 results of one shape takes minutes; validate the document with the results
    # array trimmed to its ends (each result comes from the same code).
    run_["results"] = run_["results"][:5] + run_["results"][-5:]
    assert_valid_sarif(json.dumps(doc))


def github_severity(doc: dict, result: dict) -> str:
    """The severity GitHub code scanning shows for a result: the RULE's `security-severity` (>= 9.0
    critical, >= 7.0 high, >= 4.0 medium, > 0 low); without one, the level (`note` -> info here)."""
    rule = doc["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == result["ruleId"]
    score = rule.get("properties", {}).get("security-severity")
    if score is None:
        return {"note": "info", "warning": "medium", "error": "high"}[
            rule.get("defaultConfiguration", {}).get("level", "warning")
        ]
    value = float(score)
    for floor, label in ((9.0, "critical"), (7.0, "high"), (4.0, "medium")):
        if value >= floor:
            return label
    return "low" if value > 0 else "info"


def test_github_shows_the_severity_of_the_report_for_every_finding(tmp_path):
    sample = next(s for s in keys.documentation_samples() if s.startswith("sk_"))
    plant(tmp_path, "docs/quickstart.md", f"stripe.api_key = '{sample}'\n")
    plant(tmp_path, "web/.env", f"NEXT_PUBLIC_STRIPE={keys.key('restricted', 'live')}\n")
    plant(tmp_path, "web/.env.test", f"NEXT_PUBLIC_STRIPE_TEST={keys.key('secret', 'test')}\n")
    plant(
        tmp_path, "pay/paystack.py", f"import paystack\nK = '{keys.key('secret', 'live', n=40)}'\n"
    )
    plant(
        tmp_path,
        "srv/app.py",
        f"A = '{keys.key()}'\nB = '{keys.key('restricted', 'test')}'\n"
        f"C = '{keys.key('secret', 'test')}'\n",
    )
    plant(tmp_path, "srv/pub.js", f"P = '{keys.key('publishable', 'live')}'\n")
    sarif_run = run("scan", str(tmp_path), "--format", "sarif", "--fail-on", "never")
    json_run = run("scan", str(tmp_path), "--format", "json", "--fail-on", "never")
    doc = assert_valid_sarif(sarif_run.stdout)
    report = {f["secret_sha256"]: f["severity"] for f in json.loads(json_run.stdout)["findings"]}
    shown = {
        r["partialFingerprints"]["leakscan/secret-sha256/v1"]: github_severity(doc, r)
        for r in doc["runs"][0]["results"]
    }
    assert len(report) == 8 and shown == report
    assert set(report.values()) == {"critical", "high", "medium", "low", "info"}
    ids = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert {"stripe.secret-key.test/docs-sample", "stripe.restricted-key.live/client-side",
            "stripe.secret-key.test/client-side"} <= ids  # fmt: skip
    assert any(i.startswith("stripe.secret-key.live/lookalike") for i in ids)
    variant = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"]
                   if r["id"] == "stripe.secret-key.test/docs-sample")  # fmt: skip
    assert "security-severity" not in variant["properties"]
    assert variant["defaultConfiguration"]["level"] == "note"
