"""A hostile repository: every command its config, hooks and attributes name writes a marker file when it
runs. Every leakscan command that runs git must finish on it (exit 0 or 1) without running any of them.
The same repository under plain git writes the markers, so the check can fail."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests import keys
from tests.conftest import GIT_ENV, commit_file, git, make_repo, run

HOOKS = ("pre-commit", "post-commit", "post-checkout", "post-index-change", "reference-transaction",
         "pre-auto-gc", "post-rewrite", "pre-push", "post-merge", "fsmonitor-watchman")  # fmt: skip


def marker(markers: Path, name: str) -> str:
    """A shell command that records `name` as run, then exits (never waits on its input: a process
    filter would wait for it forever)."""
    return f"touch {shlex.quote(str(markers / name))}; exit 0"


def script(path: Path, markers: Path, name: str) -> Path:
    path.write_text(f"#!/bin/sh\n{marker(markers, name)}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def make_hostile(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """(repository, markers directory, base commit, head commit); the repository is made normal, then
    given its hostile config (so building it runs nothing)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = make_repo(tmp_path / "org" / "hostile")
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    base = commit_file(repo, "README.md", "hello\n")
    commit_file(repo, "old.py", f"KEY = '{keys.key('secret', 'live')}'\n")
    head = commit_file(repo, "app.py", "x = 1\n")
    (repo / "staged.py").write_text(f"KEY = '{keys.key('restricted', 'live')}'\n")
    git(repo, "add", "staged.py")
    (repo / "app.py").write_text("x = 2\n")  # an unstaged change: a clean filter would be run on it
    (repo / "new.py").write_text("y = 1\n")  # untracked

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in HOOKS:
        script(hooks / name, markers, f"hook-{name}")
        script(repo / ".git" / "hooks" / name, markers, f"git-dir-hook-{name}")
    external = script(tmp_path / "external-diff", markers, "diff-external")
    included = tmp_path / "included.gitconfig"
    included.write_text(
        "[core]\n"
        f"\tfsmonitor = {marker(markers, 'fsmonitor-included')}\n"
        f"\taskPass = {marker(markers, 'askpass')}\n"
        f"\tgitProxy = {marker(markers, 'git-proxy')}\n"
        "[credential]\n"
        f"\thelper = !{marker(markers, 'credential-helper')}\n"
        "[gpg]\n"
        f"\tprogram = {marker(markers, 'gpg')}\n"
    )
    settings = {
        "core.fsmonitor": marker(markers, "fsmonitor"),
        "core.hooksPath": str(hooks),
        "core.pager": marker(markers, "pager"),
        "core.sshCommand": marker(markers, "ssh"),
        "core.editor": marker(markers, "editor"),
        "pager.log": marker(markers, "pager-log"),
        "pager.diff": marker(markers, "pager-diff"),
        "filter.evil.clean": marker(markers, "filter-clean"),
        "filter.evil.smudge": marker(markers, "filter-smudge"),
        "filter.evil.process": marker(markers, "filter-process"),
        "diff.evil.textconv": marker(markers, "textconv"),
        "diff.evil.command": marker(markers, "diff-driver-command"),
        "diff.external": str(external),
        "alias.evil": f"!{marker(markers, 'alias')}",
        "alias.status": f"!{marker(markers, 'alias-status')}",
        "uploadpack.packObjectsHook": marker(markers, "pack-objects-hook"),
        "protocol.ext.allow": "always",
        "protocol.allow": "always",
        "remote.origin.url": f"ext::sh -c {shlex.quote(marker(markers, 'ext-transport'))}",
        "include.path": str(included),
        f"includeIf.gitdir:{repo}/.git.path": str(included),
    }
    for key, value in settings.items():
        git(repo, "config", key, value)
    assert not list(markers.iterdir())
    return repo, markers, base, head


def leakscan_in(repo: Path, *args: str, env: dict[str, str] | None = None) -> int:
    """leakscan as a real process in `repo` (hooks run it from the repository, with no path)."""
    full = {**os.environ, **GIT_ENV, "HOME": str(repo.parent), **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "leakscan", *args], cwd=repo, env=full,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode in (0, 1), (args, proc.stderr)
    return proc.returncode


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path, str, str]:
    return make_hostile(tmp_path)


def test_no_leakscan_command_runs_a_repositorys_commands(hostile, tmp_path, monkeypatch):
    repo, markers, base, head = hostile
    monkeypatch.setenv("HOME", str(tmp_path))  # the user's own config: none
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": base, "after": head, "ref": "refs/heads/main",
                                 "repository": {"default_branch": "main"}}))  # fmt: skip
    listing = tmp_path / "repos.txt"
    listing.write_text(f"file://{repo}\n")
    github = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event),
              "GITHUB_OUTPUT": str(tmp_path / "out.txt"),
              "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}  # fmt: skip
    commands: list[tuple[str, ...]] = [
        ("scan", str(repo)),
        ("scan", "--staged", str(repo)),
        ("scan", "--staged", str(repo), str(repo / "app.py"), str(repo / "staged.py")),
        ("scan", "--history", str(repo), "--no-progress"),
        ("scan", "--history", "--unreachable", str(repo), "--no-progress"),
        ("scan", "--range", f"{base}..{head}", str(repo), "--no-progress"),
        ("scan", "--since", base, str(repo), "--no-progress"),
        ("baseline", str(repo), "-o", str(tmp_path / "baseline.json")),
        ("scan-many", str(repo.parent), "-j", "1"),
        ("scan-many", str(listing), "-j", "1"),
    ]
    for args in commands:
        result = run(*args)
        assert result.exit_code in (0, 1), (args, result.stderr)
        assert not sorted(p.name for p in markers.iterdir()), args
    result = run("ci", "github", "--path", str(repo), "--sarif-file", str(tmp_path / "x.sarif"),
                 env=github)  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    pushed = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": head}
    assert leakscan_in(repo, "hook", "pre-push", env=pushed) == 1  # old.py's key is in the range
    assert leakscan_in(repo, "hook", "pre-push", env={"PRE_COMMIT_LOCAL_BRANCH": "main"}) == 1
    assert leakscan_in(repo, "scan", "--staged") == 1
    assert not sorted(p.name for p in markers.iterdir())


def test_plain_git_does_run_them_so_the_check_above_can_fail(hostile, tmp_path):
    repo, markers, _, _ = hostile
    env = {**os.environ, **GIT_ENV, "HOME": str(tmp_path)}
    quiet = ("-c", "core.fsmonitor=false", "-c", "filter.evil.process=")  # they fail git's commands
    for args in (
        ("status",),  # reads the index: fsmonitor; the unstaged app.py: the process filter
        ("evil",),
        (*quiet, "diff", "HEAD"),  # the diff driver's command
        (*quiet, "log", "-p", "--no-ext-diff", "-1"),  # textconv
        (*quiet, "commit", "-q", "-m", "hooked"),  # hooks
    ):  # exit status ignored: the markers say what ran
        subprocess.run(["git", "-C", str(repo), *args], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60, check=False)  # fmt: skip
    ran = {p.name for p in markers.iterdir()}
    expected = {"fsmonitor-included", "filter-process", "alias", "diff-driver-command", "textconv",
                "hook-pre-commit", "hook-reference-transaction"}  # fmt: skip
    assert expected <= ran, ran
