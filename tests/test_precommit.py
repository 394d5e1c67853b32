"""The pre-commit hooks, run by the real pre-commit tool against throwaway repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import keys
from tests.conftest import GIT_ENV, ROOT, commit_file, git
from tests.integration import hooked_repo, pre_commit_env


def pre_commit(
    cwd: Path, home: Path, *args: str, store: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = pre_commit_env(home, store or home / "pre-commit-cache")
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip


def test_manifest_is_valid(tmp_path):
    out = pre_commit(ROOT, tmp_path, "validate-manifest", ".pre-commit-hooks.yaml")
    assert out.returncode == 0, out.stdout + out.stderr


def test_try_repo_blocks_a_staged_key_with_a_short_redacted_report(installs):
    job = installs["try-repo"]
    code, text = job.wait()
    k = str(job.data["key"])
    assert code == 1, text
    assert "Failed" in text and "settings.py:1:11" in text and "CRITICAL" in text
    assert k[:8] + "…" + k[-4:] in text and k not in text
    assert "1 finding(s) (1 critical); 2 files" in text


@pytest.fixture(scope="module")
def hook_store(installs) -> tuple[Path, str]:
    job = installs["hooks"]
    code, output = job.wait()
    assert code == 0, output
    return Path(str(job.data["store"])), str(job.data["config"])


def test_commit_hook_blocks_git_commit_and_lets_a_clean_one_through(tmp_path, hook_store):
    store, config = hook_store
    repo = hooked_repo(tmp_path / "repo", config)
    assert pre_commit(repo, tmp_path, "install", store=store).returncode == 0
    k = keys.key("restricted", "live")
    (repo / "app.js").write_text(f"const k = '{k}';\n")
    git(repo, "add", "app.js")
    env = {**os.environ, **GIT_ENV, "HOME": str(tmp_path), "PRE_COMMIT_HOME": str(store)}
    out = subprocess.run(["git", "commit", "-m", "add key"], cwd=repo, env=env, capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode != 0 and "app.js:1:12" in out.stdout + out.stderr
    assert k not in out.stdout + out.stderr
    assert git(repo, "log", "--format=%s") == "pre-commit config"
    (repo / "app.js").write_text("const k = process.env.STRIPE_KEY;\n")
    git(repo, "add", "app.js")
    out = subprocess.run(["git", "commit", "-q", "-m", "clean"], cwd=repo, env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_all_files_and_files_scan_what_they_name(tmp_path, hook_store):
    store, config = hook_store
    repo = hooked_repo(tmp_path / "repo", config)
    k = keys.key("secret", "test")
    commit_file(repo, "old/key.py", f"K = '{k}'\n")  # committed without the hook
    commit_file(repo, "clean.py", "x = 1\n")
    out = pre_commit(repo, tmp_path, "run", "leakscan", "--all-files", store=store)
    assert out.returncode == 1 and "old/key.py:1:6" in out.stdout
    out = pre_commit(
        repo, tmp_path, "run", "leakscan", "--verbose", "--files", "clean.py", store=store
    )
    assert out.returncode == 0, out.stdout
    assert "0 finding(s); 1 files" in out.stdout
    out = pre_commit(repo, tmp_path, "run", "leakscan", "--files", "old/key.py", store=store)
    assert out.returncode == 1 and k not in out.stdout


def test_push_hook_scans_from_ref_to_ref(tmp_path, hook_store):
    store, config = hook_store
    repo = hooked_repo(tmp_path / "repo", config)
    k = keys.key("secret", "live")
    with_key = commit_file(repo, "a.py", f"K = '{k}'\n")
    base = commit_file(repo, "a.py", "K = None\n")
    head = commit_file(repo, "b.py", "b = 1\n")
    run = ("run", "leakscan-push", "--hook-stage", "pre-push")
    out = pre_commit(repo, tmp_path, *run, "--from-ref", base, "--to-ref", head, store=store)
    assert out.returncode == 0, out.stdout
    out = pre_commit(repo, tmp_path, *run, "--from-ref", f"{with_key}^", "--to-ref", head,
                     "--verbose", store=store)  # fmt: skip
    assert out.returncode == 1 and "a.py:1:6" in out.stdout and k not in out.stdout


def test_real_push_of_a_new_branch_is_blocked(tmp_path, hook_store):
    store, config = hook_store
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = hooked_repo(tmp_path / "repo", config)
    assert pre_commit(repo, tmp_path, "install", "-t", "pre-push", store=store).returncode == 0
    git(repo, "remote", "add", "origin", str(remote))
    env = {**os.environ, **GIT_ENV, "HOME": str(tmp_path), "PRE_COMMIT_HOME": str(store)}

    def push(*refs: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "push", "-q", "origin", *refs], cwd=repo, env=env,
                              capture_output=True, text=True)  # fmt: skip

    assert push("main").returncode == 0  # first push of a repository: every commit is scanned
    git(repo, "checkout", "-q", "-b", "feature")
    k = keys.webhook()
    commit_file(repo, "hooks.py", f"SECRET = '{k}'\n")
    commit_file(repo, "hooks.py", "SECRET = os.environ['SECRET']\n")
    out = push("feature")
    assert out.returncode != 0 and "hooks.py:1:11" in out.stdout + out.stderr
    assert k not in out.stdout + out.stderr
    assert "feature" not in git(remote, "branch", "--list")
