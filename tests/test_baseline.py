"""Baselines on real git repositories: deterministic, churn-free, stale entries, imports."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests import keys
from tests.conftest import commit_file, git, run, scan_json, sha256

BASELINE = ".leakscan-baseline.json"


def test_baseline_is_byte_identical_on_rerun_and_holds_no_key_paths_or_lines(repo):
    live, test = keys.key("secret", "live"), keys.key("restricted", "test")
    commit_file(repo, "app/settings.py", f"A = '{live}'\nB = '{test}'\nC = '{live}'\n")
    first = run("baseline", str(repo))
    assert first.exit_code == 0 and "wrote 2 baseline entries" in first.stderr
    text = (repo / BASELINE).read_bytes()
    assert run("baseline", str(repo)).exit_code == 0
    assert (repo / BASELINE).read_bytes() == text
    doc = json.loads(text)
    assert doc["version"] == 1
    assert [(e["rule_id"], e["secret_sha256"]) for e in doc["entries"]] == sorted(
        [("stripe.secret-key.live", sha256(live)),
         ("stripe.restricted-key.test", sha256(test))]
    )  # fmt: skip
    decoded = text.decode()
    for forbidden in (
        live,
        test,
        "settings.py",
        '"line"',
        "commit",
        git(repo, "rev-parse", "HEAD"),
    ):
        assert forbidden not in decoded
    assert doc["entries"][0]["preview"] == test[:8] + "…" + test[-4:]


def test_baseline_does_not_churn_on_moves_edits_and_rewritten_history(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n", "add key")
    before = tmp_path / "before.json"
    assert run("baseline", str(repo), "-o", str(before)).exit_code == 0
    # the key moves down and to another file; the commit that added it is rewritten
    git(repo, "mv", "a.py", "b.py")
    (repo / "b.py").write_text(f"import os\n\n\nKEY = os.environ.get('K', '{k}')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--amend", "-m", "rewritten")
    commit_file(repo, "c.py", "print('hello')\n")
    head = git(repo, "rev-parse", "HEAD")
    git(
        repo,
        "rebase",
        "-q",
        "--force-rebase",
        "--root",
        env={"GIT_COMMITTER_DATE": "2001-01-01T00:00:00"},
    )
    assert git(repo, "rev-parse", "HEAD") != head
    after = tmp_path / "after.json"
    assert run("baseline", str(repo), "-o", str(after)).exit_code == 0
    assert after.read_bytes() == before.read_bytes()
    code, doc, _ = scan_json(str(repo), "--baseline", str(before))
    assert code == 0
    (f,) = doc["findings"]
    assert f["locations"][0]["line"] == 4 and f["suppressed"]["kind"] == "baseline"


def test_new_key_fails_while_baselined_key_passes(repo):
    old, new = keys.key("secret", "live"), keys.key("secret", "test")
    commit_file(repo, "a.py", f"K = '{old}'\n")
    assert run("scan", str(repo)).exit_code == 1
    assert run("baseline", str(repo)).exit_code == 0
    assert run("scan", str(repo)).exit_code == 0  # the default file at the root is used
    commit_file(repo, "b.py", f"N = '{new}'\n")
    code, doc, stderr = scan_json(str(repo))
    assert code == 1
    by_rule = {f["rule_id"]: f["suppressed"] for f in doc["findings"]}
    assert by_rule["stripe.secret-key.test"] is None
    assert by_rule["stripe.secret-key.live"] == {
        "kind": "baseline",
        "reason": "known in the baseline",
    }
    assert "1 suppressed" in stderr
    text = run("scan", str(repo), "--no-color")
    assert "1 suppressed finding(s) not shown (1 baseline)" in text.stdout and text.exit_code == 1
    assert "suppressed (baseline)" not in text.stdout
    text = run("scan", str(repo), "--no-color", "--verbose")
    assert "suppressed (baseline)" in text.stdout and text.exit_code == 1
    assert run("scan", str(repo), "--no-baseline").exit_code == 1


def test_stale_entries_are_reported_in_text_and_json(repo):
    gone, kept = keys.key("secret", "live"), keys.key("restricted", "live")
    commit_file(repo, "a.py", f"G = '{gone}'\nK = '{kept}'\n")
    assert run("baseline", str(repo)).exit_code == 0
    commit_file(repo, "a.py", f"K = '{kept}'\n", "rotate and remove")
    result = run("scan", str(repo), "--report-stale")
    assert result.exit_code == 0
    assert "1 entry no longer found" in result.stderr
    assert gone[:8] + "…" + gone[-4:] in result.stderr and gone not in result.stderr
    code, doc, _ = scan_json(str(repo), "--report-stale")
    assert code == 0
    assert doc["scan"]["stale_baseline_entries"] == [{
        "rule_id": "stripe.secret-key.live", "key_type": "secret", "mode": "live",
        "secret_sha256": sha256(gone),
        "preview": gone[:8] + "…" + gone[-4:],
    }]  # fmt: skip
    _, doc, _ = scan_json(str(repo))
    assert "stale_baseline_entries" not in doc["scan"]


def test_baseline_from_config_and_flag(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n")
    elsewhere = tmp_path / "known.json"
    assert run("baseline", str(repo), "-o", str(elsewhere)).exit_code == 0
    assert not (repo / BASELINE).exists()
    assert run("scan", str(repo)).exit_code == 1
    assert run("scan", str(repo), "--baseline", str(elsewhere)).exit_code == 0
    (repo / "ci").mkdir()
    (repo / "ci" / "known.json").write_bytes(elsewhere.read_bytes())
    (repo / ".leakscan.yaml").write_text("baseline: ci/known.json\n")
    assert run("scan", str(repo)).exit_code == 0


def test_inline_allowed_keys_stay_out_of_the_baseline(tmp_path):
    k = keys.key("secret", "live")
    (tmp_path / "a.py").write_text(f"K = '{k}'  # leakscan:allow\n")
    assert run("baseline", str(tmp_path)).exit_code == 0
    assert json.loads((tmp_path / BASELINE).read_text())["entries"] == []


def test_malformed_baseline_is_exit_two_with_one_sentence(tmp_path):
    (tmp_path / "a.py").write_text(f"K = '{keys.key()}'\n")
    bad = tmp_path / "bad.json"
    for content, says in [
        ("{not json", "not valid JSON"),
        ('{"version": 9, "entries": []}', "version 9 is not supported"),
        ('{"version": 1}', "not a leakscan baseline"),
        (
            '{"version": 1, "entries": [{"rule_id": "x", "secret_sha256": "sk_live_abc"}]}',
            "entry 1",
        ),
    ]:
        bad.write_text(content)
        result = run("scan", str(tmp_path), "--baseline", str(bad))
        assert result.exit_code == 2, content
        assert result.stderr.count("\n") == 1 and says in result.stderr
        assert "leakscan baseline" in result.stderr
    result = run("scan", str(tmp_path), "--baseline", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "cannot read the baseline file" in result.stderr


def test_import_from_gitleaks_keeps_stripe_keys_it_can_hash(tmp_path):
    live, rak = keys.key("secret", "live"), keys.key("restricted", "live")
    report = [
        {"RuleID": "stripe-access-token", "Secret": live, "File": "a.py", "StartLine": 1},
        {"RuleID": "stripe-access-token", "Secret": rak, "File": "b.py", "StartLine": 9},
        {"RuleID": "stripe-access-token", "Secret": "REDACTED", "File": "c.py", "StartLine": 2},
        {"RuleID": "github-pat", "Secret": "ghp_" + keys.body(36), "File": "d.py", "StartLine": 3},
    ]
    (tmp_path / "gl.json").write_text(json.dumps(report))
    (tmp_path / "a.py").write_text(f"K = '{live}'\n")
    result = run("baseline", str(tmp_path), "--from-gitleaks", str(tmp_path / "gl.json"))
    assert result.exit_code == 0
    assert "imported 2 Stripe key(s) from 4 gitleaks result(s)" in result.stderr
    assert "1 gitleaks result(s) not imported: redacted" in result.stderr
    assert "1 gitleaks result(s) not imported: not a Stripe key" in result.stderr
    entries = json.loads((tmp_path / BASELINE).read_text())["entries"]
    assert sorted(e["rule_id"] for e in entries) == [
        "stripe.restricted-key.live", "stripe.secret-key.live",
    ]  # fmt: skip
    assert live not in result.stderr + (tmp_path / BASELINE).read_text()
    assert run("scan", str(tmp_path)).exit_code == 0  # the imported baseline suppresses the key


def test_import_from_detect_secrets_matches_sha1_of_keys_this_scan_finds(tmp_path):
    live, test = keys.key("secret", "live"), keys.key("secret", "test")
    unknown = keys.key("secret", "live")  # never in the tree
    (tmp_path / "a.py").write_text(f"A = '{live}'\nB = '{test}'\n")

    def sha1(s: str) -> str:
        return hashlib.sha1(s.encode()).hexdigest()

    # detect-secrets' Stripe plugin hashes the prefix + first 24 body characters of a live key;
    # its entropy plugins hash the whole quoted string.
    doc = {"version": "1.5.0", "results": {
        "a.py": [{"type": "Stripe Access Key", "hashed_secret": sha1(live[:8 + 24]), "line_number": 1},
                 {"type": "Base64 High Entropy String", "hashed_secret": sha1(test), "line_number": 2}],
        "old.py": [{"type": "Stripe Access Key", "hashed_secret": sha1(unknown), "line_number": 5}],
    }}  # fmt: skip
    (tmp_path / ".secrets.baseline").write_text(json.dumps(doc))
    result = run(
        "baseline", str(tmp_path), "--from-detect-secrets", str(tmp_path / ".secrets.baseline")
    )
    assert result.exit_code == 0
    assert "imported 2 Stripe key(s) from 3 detect-secrets result(s)" in result.stderr
    assert "1 detect-secrets result(s) not imported: no key found by this scan" in result.stderr
    entries = json.loads((tmp_path / BASELINE).read_text())["entries"]
    assert sorted(e["secret_sha256"] for e in entries) == sorted(sha256(k) for k in (live, test))
    assert run("scan", str(tmp_path)).exit_code == 0


def test_bad_import_files_are_exit_two(tmp_path):
    (tmp_path / "x.json").write_text('{"results": []}')
    for flag, says in [("--from-gitleaks", "not a gitleaks JSON report"),
                       ("--from-detect-secrets", "not a detect-secrets baseline")]:  # fmt: skip
        result = run("baseline", str(tmp_path), flag, str(tmp_path / "x.json"))
        assert result.exit_code == 2 and says in result.stderr and result.stderr.count("\n") == 1
    both = run("baseline", str(tmp_path), "--from-gitleaks", "a", "--from-detect-secrets", "b")
    assert both.exit_code == 2 and "not both" in both.stderr
    assert not (tmp_path / BASELINE).exists()


def test_baseline_command_shares_the_scan_source_options():
    scan_opts = {o for p in run("scan", "--help").stdout.split() for o in [p] if p.startswith("--")}
    base_opts = {p for p in run("baseline", "--help").stdout.split() if p.startswith("--")}
    for flag in ("--include-ignored", "--max-file-size", "--config", "--rules"):
        assert flag in scan_opts and flag in base_opts


def test_baseline_is_deterministic_across_scan_roots(tmp_path: Path):
    k = keys.key("organization", "live", n=224)
    for name in ("one", "two"):
        d = tmp_path / name
        (d / "deep" / "er").mkdir(parents=True)
        (d / ("deep/er/x.env" if name == "one" else "y.txt")).write_text(f"K={k}\n")
        assert run("baseline", str(d)).exit_code == 0
    assert (tmp_path / "one" / BASELINE).read_bytes() == (tmp_path / "two" / BASELINE).read_bytes()
