"""Starting the slow pre-commit and Action installs (see conftest.installs) and running their tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import GIT_ENV, ROOT, Background, commit_file, git, make_repo

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def pre_commit_env(home: Path, store: Path) -> dict[str, str]:
    env = {**os.environ, **GIT_ENV, "HOME": str(home), "PRE_COMMIT_COLOR": "never",
           "PRE_COMMIT_HOME": str(store)}  # fmt: skip
    env.pop("PRE_COMMIT", None)
    return env


def _start(args: list[str], cwd: Path, env: dict[str, str], **data: object) -> Background:
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    return Background(proc, cwd, dict(data))


def start_try_repo(base: Path, snapshot: tuple[Path, str], key: str) -> Background:
    """`pre-commit try-repo` on a repository with a staged key (try-repo installs into a fresh
    store on every call, so the suite runs it once)."""
    snap, sha = snapshot
    repo = make_repo(base / "work")
    commit_file(repo, "README.md", "hello\n")
    (repo / "settings.py").write_text(f"STRIPE = '{key}'\n")
    (repo / "clean.py").write_text("x = 1\n")
    git(repo, "add", "settings.py", "clean.py")
    args = [sys.executable, "-m", "pre_commit", "try-repo", str(snap), "leakscan", "--ref", sha]
    return _start(args, repo, pre_commit_env(base, base / "store"), key=key)


def start_hook_install(base: Path, snapshot: tuple[Path, str]) -> Background:
    """One hook environment, shared by the tests that run pre-commit with a config naming the
    same snapshot and commit."""
    snap, sha = snapshot
    config = (f"repos:\n- repo: {snap}\n  rev: {sha}\n  hooks:\n  - id: leakscan\n"
              "  - id: leakscan-push\n")  # fmt: skip
    repo = hooked_repo(base / "warmup", config)
    store = base / "store"
    args = [sys.executable, "-m", "pre_commit", "install-hooks"]
    return _start(args, repo, pre_commit_env(base, store), store=store, config=config)


def hooked_repo(path: Path, config: str) -> Path:
    repo = make_repo(path)
    commit_file(repo, ".pre-commit-config.yaml", config, "pre-commit config")
    return repo


def start_action_install(base: Path, snapshot: tuple[Path, str]) -> Background:
    """setup-python's part (a fresh Python first on PATH), then the action's own install step."""
    base.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", str(base / "python")], check=True)
    env = {**os.environ, **GIT_ENV, "HOME": str(base), "GITHUB_ACTION_PATH": str(snapshot[0]),
           "PATH": f"{base / 'python' / 'bin'}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    install = ACTION["runs"]["steps"][1]
    script = base / "install.sh"
    script.write_text(install["run"])
    return _start(step_command(script), base, env, runner_env=env)


def step_command(script: Path) -> list[str]:
    """What the runner does for a step with `shell: bash`."""
    return ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
