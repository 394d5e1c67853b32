"""leakscan on leakscan: the project's own tree and history are clean, and its own pre-commit hook runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests import keys
from tests.conftest import GIT_ENV, git, make_repo, run

ROOT = Path(__file__).resolve().parent.parent


def test_project_history_is_clean():
    result = run("scan", "--history", str(ROOT), "--format", "json")
    assert result.exit_code == 0, [
        (f["rule_id"], f["locations"][0])
        for f in json.loads(result.stdout)["findings"]
        if not f["suppressed"]
    ]


def pre_commit(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit run --all-files` with this environment's leakscan on PATH; nothing is downloaded."""
    env = {
        **os.environ, **GIT_ENV,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--config",
         str(ROOT / ".pre-commit-config.yaml")],
        cwd=repo, capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_project_pre_commit_hook_passes_on_the_project(tmp_path):
    proc = pre_commit(ROOT, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "leakscan (Stripe keys in the files being committed)" in proc.stdout
        and "Passed" in proc.stdout
    )


def test_project_pre_commit_hook_fails_on_a_key(tmp_path):
    repo = make_repo(tmp_path / "repo")
    k = keys.key("secret", "live")
    (repo / "settings.py").write_text(f"STRIPE_KEY = '{k}'\n")
    git(repo, "add", "settings.py")
    proc = pre_commit(repo, tmp_path)
    assert proc.returncode == 1 and "Failed" in proc.stdout
    assert "settings.py:1:15" in proc.stdout and k not in proc.stdout + proc.stderr
