from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leakscan.cli.app import cli

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent), **(env or {})}
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=full_env, check=True
    )
    return out.stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def commit_file(repo: Path, name: str, text: str, message: str = "change") -> str:
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", "--", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process, stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project as it is on disk (tracked and new files), committed in a throwaway repository:
    what pre-commit clones and what actions/checkout gives a composite action."""
    snap = make_repo(tmp_path_factory.mktemp("snapshot") / "leakscan")
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    for name in filter(None, names):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = snap / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    git(snap, "add", "-A")
    git(snap, "commit", "-q", "-m", "snapshot")
    return snap, git(snap, "rev-parse", "HEAD")


@dataclass(frozen=True)
class Background:
    """A slow command (an install of leakscan from the snapshot) started early, awaited on use."""

    proc: subprocess.Popen[str]
    cwd: Path
    data: dict[str, object]

    def wait(self) -> tuple[int, str]:
        output, _ = self.proc.communicate()
        return self.proc.returncode, output


@pytest.fixture(scope="session")
def installs(
    tmp_path_factory: pytest.TempPathFactory, project_snapshot: tuple[Path, str]
) -> Iterator[dict[str, Background]]:
    """The three installs of leakscan the integration tests need, run side by side (each spends
    most of a minute building and fetching packages): pre-commit's try-repo on a staged key, the
    shared hook environment, and the Action's install step on a fresh Python."""
    from tests import keys
    from tests.integration import start_action_install, start_hook_install, start_try_repo

    base = tmp_path_factory.mktemp("installs")
    started = {
        "try-repo": start_try_repo(base / "try-repo", project_snapshot, keys.key("secret", "live")),
        "hooks": start_hook_install(base / "hooks", project_snapshot),
        "action": start_action_install(base / "action", project_snapshot),
    }
    yield started
    for job in started.values():
        job.proc.kill()
        job.proc.wait()
