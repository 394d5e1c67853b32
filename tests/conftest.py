from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leakscan.cli.app import cli
from leakscan.findings import from_occurrences
from leakscan.match.engine import compile_matcher
from leakscan.model import Blob, Finding
from leakscan.scan.content import scan_blob
from leakscan.settings import Settings
from leakscan.settings.builtin import load_builtin

LEAKSCAN = (sys.executable, "-m", "leakscan")  # the CLI as a subprocess
RULES = load_builtin()
SETTINGS = Settings(RULES, compile_matcher(RULES.rules))

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's FORCE_COLOR or CLICOLOR_FORCE would colour reports the tests read as plain."""
    for name in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)


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


def commit_on_branch(repo: Path, branch: str, name: str, text: str, message: str) -> str:
    """Commit `name` on a new branch cut from HEAD, then go back to main; returns the commit."""
    git(repo, "checkout", "-q", "-b", branch)
    sha = commit_file(repo, name, text, message)
    git(repo, "checkout", "-q", "main")
    return sha


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def plant(root: Path, rel: str, data: str | bytes) -> Path:
    """Write `data` (text as UTF-8) to `root/rel`, creating folders."""
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process, stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def scan_json(*args: str, command: str = "scan", jobs: int | None = None) -> tuple[int, dict, str]:
    """`leakscan COMMAND ARGS --format json` (and `--jobs N` if given): exit code, report, stderr."""
    extra = ("--jobs", str(jobs)) if jobs is not None else ()
    result = run(command, *args, "--format", "json", *extra)
    return result.exit_code, json.loads(result.stdout), result.stderr


def findings(text: str | bytes, path: str = "f.txt") -> tuple[Finding, ...]:
    """The findings of one content at `path`, through the scan's own matching and classification."""
    data = text.encode() if isinstance(text, str) else text
    return from_occurrences(RULES, scan_blob(SETTINGS, Blob(path, data)).occurrences)


def read_terminal(fd: int) -> bytes:
    """Everything written to a pseudo-terminal until its other end closes."""
    shown = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    return shown


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
