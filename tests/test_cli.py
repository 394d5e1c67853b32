"""End to end: what a user runs, the exit code, and what every output says (and never says)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests import keys
from tests.conftest import LEAKSCAN, commit_file, git, plant, run, sha256


def test_live_key_in_settings_fails_with_redacted_report(tmp_path):
    k = keys.key("secret", "live")
    plant(tmp_path, "config/settings.py", f"DEBUG = False\nSTRIPE_KEY = '{k}'\n")
    result = run("scan", str(tmp_path), "--no-color")
    assert result.exit_code == 1
    out = result.stdout
    assert "config/settings.py:2:15" in out
    assert "CRITICAL" in out and "secret, live mode" in out
    assert "Rotate this key now" in out
    assert k not in result.stdout + result.stderr
    assert "1 finding(s) (1 critical)" in result.stderr


def test_json_report_matches_the_contract(tmp_path):
    k = keys.key("secret", "live")
    plant(tmp_path, "config/settings.py", f"STRIPE_KEY = '{k}'\n")
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    assert k not in result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["version"] == 1 and doc["tool"]["name"] == "leakscan"
    assert set(doc["scan"]) >= {"target", "mode", "files", "blobs", "bytes", "skipped"}
    assert doc["scan"]["mode"] == "paths" and doc["scan"]["files"] == 1
    (f,) = doc["findings"]
    assert set(f) >= {
        "rule_id", "key_type", "mode", "severity", "secret_sha256", "preview", "present_at_head",
        "confidence", "context", "remediation", "locations", "suppressed",
    }  # fmt: skip
    assert f["secret_sha256"] == sha256(k)
    assert f["preview"] == k[:8] + "…" + k[-4:]
    assert (f["rule_id"], f["severity"], f["present_at_head"], f["suppressed"]) == (
        "stripe.secret-key.live", "critical", True, None,
    )  # fmt: skip
    assert f["locations"] == [
        {"path": "config/settings.py", "line": 1, "column": 15, "end_column": 15 + len(k),
         "commit": None, "author_date": None, "encoding": "plain"}
    ]  # fmt: skip


def test_show_secrets_is_the_only_way_to_print_a_key(tmp_path):
    k = keys.key("restricted", "live")
    plant(tmp_path, "a.env", f"K={k}\n")
    for fmt in ("text", "json"):
        hidden = run("scan", str(tmp_path), "--format", fmt, "-v")
        assert k not in hidden.stdout + hidden.stderr
        shown = run("scan", str(tmp_path), "--format", fmt, "--show-secrets")
        assert k in shown.stdout


def test_clean_tree_exits_zero(tmp_path):
    plant(tmp_path, "README.md", "nothing here\n")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 0 and result.stdout == ""
    assert "0 finding(s)" in result.stderr and "passing" in result.stderr


def test_fail_on_threshold(tmp_path):
    plant(
        tmp_path,
        "t.py",
        f"a = '{keys.key('secret', 'test')}'\nb = '{keys.key('restricted', 'test')}'\n",
    )
    assert run("scan", str(tmp_path)).exit_code == 1
    assert run("scan", str(tmp_path), "--fail-on", "high").exit_code == 0
    assert run("scan", str(tmp_path), "--fail-on", "never").exit_code == 0
    plant(tmp_path, ".leakscan.yaml", "fail-on: critical\n")
    assert run("scan", str(tmp_path)).exit_code == 0
    assert run("scan", str(tmp_path), "--fail-on", "low").exit_code == 1


def test_missing_path_exits_two_with_one_line(tmp_path):
    result = run("scan", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no such file or directory" in result.stderr


def test_publishable_key_alone_passes(tmp_path):
    plant(tmp_path, "web.js", f"Stripe('{keys.key('publishable', 'live')}')\n")
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"][0]["severity"] == "info"


def test_git_worktree_scans_tracked_and_untracked_but_not_ignored(repo):
    tracked, untracked, ignored = (keys.key("secret", "live") for _ in range(3))
    commit_file(repo, ".gitignore", "secret.env\n")
    commit_file(repo, "app.py", f"K = '{tracked}'\n")
    plant(repo, "new.py", f"K = '{untracked}'\n")
    plant(repo, "secret.env", f"K={ignored}\n")
    doc = json.loads(run("scan", str(repo), "--format", "json").stdout)
    assert doc["scan"]["mode"] == "worktree"
    assert sorted(f["locations"][0]["path"] for f in doc["findings"]) == ["app.py", "new.py"]
    doc = json.loads(run("scan", str(repo), "--format", "json", "--include-ignored").stdout)
    assert len(doc["findings"]) == 3


def test_inline_and_config_suppression_stay_visible_and_do_not_fail(tmp_path):
    a, b = keys.key("secret", "live"), keys.key("secret", "live")
    plant(tmp_path, "a.py", f"A = '{a}'  # gitleaks:allow\nB = '{b}'\n")
    sha = sha256(b)
    plant(tmp_path, ".leakscan.yaml", f"allow-secrets:\n  - {sha}\n")
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.exit_code == 0
    kinds = sorted(f["suppressed"]["kind"] for f in json.loads(result.stdout)["findings"])
    assert kinds == ["config", "inline"]


def test_config_excludes_and_precedence(tmp_path, monkeypatch):
    plant(tmp_path, "vendor/lib.py", f"K = '{keys.key()}'\n")
    plant(tmp_path, ".leakscan.yaml", "exclude-paths: [vendor/]\n")
    assert run("scan", str(tmp_path)).exit_code == 0
    other = plant(tmp_path / "elsewhere", "c.yaml", "exclude-paths: []\n")
    monkeypatch.setenv("LEAKSCAN_CONFIG", str(other))
    assert run("scan", str(tmp_path)).exit_code == 0  # layered: the repository's excludes add up
    other.write_text("allow-repo-overrides: false\n")
    assert run("scan", str(tmp_path)).exit_code == 1  # the org config forbids them
    flag = plant(tmp_path / "elsewhere", "d.yaml", "exclude-paths: ['*.py']\n")
    assert run("scan", str(tmp_path), "--config", str(flag)).exit_code == 0  # the flag beats env


def test_bad_config_exits_two_with_a_sentence(tmp_path):
    plant(tmp_path, ".leakscan.yaml", "fail-on: [\n")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and "not valid YAML" in result.stderr
    plant(tmp_path, ".leakscan.yaml", "fail_on: high\n")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and "unknown setting(s) fail_on" in result.stderr
    plant(tmp_path, ".leakscan.yaml", "allow-secrets: [sk_live_abc]\n")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and "not raw keys" in result.stderr


def test_user_rules_from_config(tmp_path):
    plant(tmp_path, "rules/acme.yaml",
          "rules:\n  - id: acme.token\n    title: Acme token\n    severity: high\n"
          "    keywords: [acme_]\n    regex: 'acme_[a-z]{12}'\n")  # fmt: skip
    plant(tmp_path, ".leakscan.yaml", "rules: [rules/acme.yaml]\n")
    plant(tmp_path, "x.txt", "token acme_abcdefghijkl\n")
    doc = json.loads(run("scan", str(tmp_path), "--format", "json").stdout)
    assert [f["rule_id"] for f in doc["findings"]] == ["acme.token"]


def test_max_file_size_skips_and_says_so(tmp_path):
    plant(tmp_path, "big.txt", "x" * 5000 + keys.key())
    result = run("scan", str(tmp_path), "--max-file-size", "1K", "--format", "json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0
    assert doc["scan"]["skipped"][0]["path"] == "big.txt"
    assert "larger than --max-file-size" in doc["scan"]["skipped"][0]["reason"]
    assert "1 skipped" in result.stderr


def test_fifo_is_reported_not_fatal_and_never_blocks(tmp_path):
    plant(tmp_path, "ok.py", f"K = '{keys.key()}'\n")
    os.mkfifo(tmp_path / "pipe")
    result = run("scan", str(tmp_path), "--format", "json", "-v")
    assert result.exit_code == 1
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["scan"]["skipped"]}
    assert "FIFO" in reasons["pipe"]


def test_output_file_and_color(tmp_path):
    plant(tmp_path, "a.py", f"K = '{keys.key()}'\n")
    out = tmp_path / "report.json"
    result = run("scan", str(tmp_path / "a.py"), "--format", "json", "-o", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["findings"][0]["locations"][0]["line"] == 1
    assert not list(tmp_path.glob(".report.json.*"))
    assert "\033[" not in run("scan", str(tmp_path)).stdout  # not a TTY: no colour


def test_python_dash_m_and_console_script(tmp_path):
    plant(tmp_path, "a.py", f"K = '{keys.key()}'\n")
    proc = subprocess.run([*LEAKSCAN, "scan", str(tmp_path)],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 1 and "stripe.secret-key.live" in proc.stdout


def test_own_checkout_is_clean():
    root = Path(__file__).resolve().parent.parent
    result = run("scan", str(root), "--format", "json")
    assert result.exit_code == 0, [f["locations"] for f in json.loads(result.stdout)["findings"]]


def test_readme_test_command_is_what_ci_runs():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    command = next(line.strip() for line in ci.splitlines() if "pytest" in line)
    assert command in readme


def test_worktree_scan_does_not_follow_symlinks(tmp_path, repo):
    outside = plant(tmp_path, "outside/secret.txt", f"K={keys.key()}\n")
    commit_file(repo, "a.txt", "hello\n")
    (repo / "link").symlink_to(outside)
    git(repo, "add", "link")
    git(repo, "commit", "-q", "-m", "link")
    result = run("scan", str(repo), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"] == []


def test_report_to_a_device_or_fifo_is_written_in_place_not_replaced(tmp_path):
    import stat
    import threading

    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    (tmp_path / "nothing-here").mkdir()
    result = run("scan", str(tmp_path / "nothing-here"), "--format", "json", "-o", str(fifo))
    reader.join(10)
    assert result.exit_code == 0
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # `-o /dev/null` must never replace /dev/null
    assert json.loads(got[0])["version"] == 1


def test_a_path_reached_through_a_symlink_into_a_repository_keeps_its_gitignore(tmp_path, repo):
    """git finds the repository from the physical path; so must the check that skips git."""
    commit_file(repo, "sub/.gitignore", "deeper/ignored.txt\n")
    (repo / "sub" / "deeper").mkdir()
    (repo / "sub" / "deeper" / "ignored.txt").write_text(f"K = '{keys.key()}'\n")
    link = tmp_path / "link"
    link.symlink_to(repo / "sub")
    result = run("scan", str(link / "deeper"), "--no-progress")
    assert result.exit_code == 0, result.stdout + result.stderr
