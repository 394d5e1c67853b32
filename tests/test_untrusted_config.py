"""A pull request can add or change `.leakscan.yaml`. leakscan never hides that it used it (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

from tests import keys
from tests.conftest import commit_file, git, run

SILENCING = "fail-on: never\nexclude-paths: ['*']\n"


def test_silencing_config_is_announced_and_warned(repo: Path):
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    commit_file(repo, ".leakscan.yaml", SILENCING)
    result = run("scan", str(repo))
    assert result.exit_code == 0  # the config is obeyed ...
    config = repo / ".leakscan.yaml"
    assert f"leakscan: config {config}: fail-on never; excludes *\n" in result.stderr  # ... visibly
    assert "the config's exclude-paths left nothing to scan" in result.stderr


def test_trusted_config_flag_ignores_the_repository_config(repo: Path, tmp_path: Path):
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    commit_file(repo, ".leakscan.yaml", SILENCING)
    trusted = tmp_path / "trusted.yaml"
    trusted.write_text("fail-on: high\n")
    result = run("scan", str(repo), "--config", str(trusted))
    assert result.exit_code == 1
    assert f"leakscan: config {trusted}: fail-on high\n" in result.stderr


def test_range_that_changes_the_config_is_warned_about(repo: Path, tmp_path: Path):
    commit_file(repo, "README.md", "hello\n")
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    commit_file(repo, ".leakscan.yaml", "fail-on: never\n", "quietly silence the scan")
    result = run("scan", "--range", f"{base}..HEAD", str(repo))
    assert result.exit_code == 0
    assert (
        "the scanned commits change .leakscan.yaml, and that new config was used" in result.stderr
    )
    trusted = tmp_path / "base.yaml"
    trusted.write_text("{}\n")
    result = run("scan", "--range", f"{base}..HEAD", str(repo), "--config", str(trusted))
    assert result.exit_code == 1 and "change .leakscan.yaml" not in result.stderr


def test_range_that_leaves_the_config_alone_is_quiet(repo: Path):
    commit_file(repo, ".leakscan.yaml", "exclude-paths: [vendor/]\n")
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    result = run("scan", "--range", f"{base}..HEAD", str(repo))
    assert result.exit_code == 1 and "warning" not in result.stderr
    assert "excludes vendor/" in result.stderr


def test_quiet_hides_the_config_line_but_not_findings(repo: Path):
    commit_file(repo, ".leakscan.yaml", "exclude-paths: [vendor/]\n")
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    result = run("scan", str(repo), "-q")
    assert result.exit_code == 1 and result.stderr == ""
