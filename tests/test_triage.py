"""Triage (issue 23): `leakscan allow HASH --reason`, reasons shown when suppressed, `baseline --audit`
under a real terminal (tmux), and a redacted gitleaks import that exits 2."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leakscan.fingerprint import preview
from tests import keys
from tests.conftest import ROOT, plant, run, sha256


def short(k: str) -> str:
    return sha256(k)[:12]


def test_allow_by_the_short_hash_the_text_report_shows(tmp_path: Path):
    k, other = keys.key("secret", "test"), keys.key("secret", "live")
    plant(tmp_path, "docs/setup.md", f"stripe.api_key = '{k}'\n")
    plant(tmp_path, "app.py", f"K = '{other}'\n")
    config = plant(tmp_path, ".leakscan.yaml", "# org policy: see wiki\nexclude-paths: [vendor/]\n")
    report = run("scan", str(tmp_path))
    assert f"hash {short(k)}" in report.stdout and f"hash {short(other)}" in report.stdout
    result = run("allow", short(k), "--reason", "shared test key of the docs", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert f"allowed {preview(k)} ({short(k)}) in {config}" in result.stderr
    text = config.read_text()
    assert text.startswith("# org policy: see wiki\nexclude-paths: [vendor/]\n")
    assert f'- sha256: {sha256(k)}\n    reason: "shared test key of the docs"' in text
    doc = json.loads(run("scan", str(tmp_path), "--format", "json").stdout)
    by_preview = {f["preview"]: f["suppressed"] for f in doc["findings"]}
    assert by_preview[preview(k)] == {"kind": "config",
                                      "reason": "allowlisted in the config: shared test key of the docs"}  # fmt: skip
    assert by_preview[preview(other)] is None
    verbose = run("scan", str(tmp_path), "-v")
    assert "suppressed (config): allowlisted in the config: shared test key of the docs" in (
        verbose.stdout
    )
    again = run("allow", sha256(other), "--reason", "rotated 2024-05-01", str(tmp_path))
    assert again.exit_code == 0 and run("scan", str(tmp_path)).exit_code == 0
    assert text in config.read_text()  # appended to the same list, nothing else touched
    for k_ in (k, other):
        assert k_ not in result.stderr + config.read_text()


def test_allow_rewrites_a_flow_list_and_refuses_what_it_cannot_name(tmp_path: Path):
    k = keys.key("secret", "test")
    plant(tmp_path, "a.py", f"K = '{k}'\n")
    config = plant(tmp_path, ".leakscan.yaml", f"allow-secrets: ['{'0' * 64}']  # old\n")
    assert run("allow", short(k), "--reason", "x", str(tmp_path)).exit_code == 0
    assert run("scan", str(tmp_path)).exit_code == 0 and "0" * 64 in config.read_text()
    for finding, says in [("ffffffffffff", "no finding of this scan has a hash starting with"),
                          (k, "never the key itself"), (short(k) + "zz", "never the key itself")]:  # fmt: skip
        result = run("allow", finding, "--reason", "x", str(tmp_path))
        assert result.exit_code == 2 and says in result.stderr and k not in result.stderr
    assert run("allow", short(k), "--reason", "  ", str(tmp_path)).exit_code == 2


def test_import_of_a_redacted_gitleaks_report_exits_two(tmp_path: Path):
    report = [{"RuleID": "stripe-access-token", "Secret": "REDACTED", "File": "a.py"}] * 2
    (tmp_path / "gl.json").write_text(json.dumps(report))
    result = run("baseline", str(tmp_path), "--from-gitleaks", str(tmp_path / "gl.json"))
    assert result.exit_code == 2
    assert "every secret in this gitleaks report is redacted" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / ".leakscan-baseline.json").exists()


class Tmux:
    """One private tmux server (its own socket) running one command in a real terminal."""

    def __init__(self, socket: Path, command: str, cwd: Path) -> None:
        self.base = ["tmux", "-S", str(socket)]
        subprocess.run([*self.base, "new-session", "-d", "-x", "200", "-y", "60", "-c", str(cwd),
                        command], check=True)  # fmt: skip

    def screen(self) -> str:
        out = subprocess.run([*self.base, "capture-pane", "-p", "-S", "-200"],
                             capture_output=True, text=True, check=True)  # fmt: skip
        return out.stdout

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def send(self, *typed: str) -> None:
        for t in typed:
            subprocess.run([*self.base, "send-keys", "-l", t], check=True)
            subprocess.run([*self.base, "send-keys", "Enter"], check=True)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is missing; .ci/run installs it")
def test_baseline_audit_in_a_real_terminal_records_verdicts_and_hides_keys(tmp_path: Path):
    live, test = keys.key("secret", "live", seed=31), keys.key("secret", "test", seed=32)
    plant(tmp_path, "repo/app.py", f"A = '{live}'\nB = '{test}'\n")
    repo = tmp_path / "repo"
    assert run("baseline", str(repo)).exit_code == 0
    done = tmp_path / "done"
    command = (f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m leakscan "
               f"baseline --audit {shlex.quote(str(repo))}; echo $? > {shlex.quote(str(done))}; "
               "sleep 30")  # fmt: skip
    tmux = Tmux(tmp_path / "tmux.sock", command, tmp_path)
    try:
        shown = tmux.wait_for("[1/2]")
        assert preview(live) in shown and "at app.py:1:6" in shown and live not in shown
        tmux.send("t", "leaked in March; rotated")
        shown = tmux.wait_for("[2/2]")
        assert preview(test) in shown and test not in shown
        tmux.send("r")
        assert f"key: {test}" in tmux.wait_for("key: ")  # shown only when asked
        tmux.send("f", "")
        tmux.wait_for("2 of 2 baseline entries have a verdict")
        deadline = time.monotonic() + 10
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
        assert live not in tmux.screen()
    finally:
        tmux.close()
    entries = json.loads((repo / ".leakscan-baseline.json").read_text())["entries"]
    verdicts = {e["preview"]: (e.get("verdict"), e.get("reason")) for e in entries}
    assert verdicts == {preview(live): ("true positive", "leaked in March; rotated"),
                        preview(test): ("false positive", None)}  # fmt: skip
    assert run("baseline", str(repo)).exit_code == 0  # regenerating keeps the verdicts
    again = json.loads((repo / ".leakscan-baseline.json").read_text())["entries"]
    assert again == entries
    assert run("scan", str(repo)).exit_code == 0
