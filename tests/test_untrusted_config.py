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


def test_org_config_can_forbid_the_repository_relaxations(repo: Path, tmp_path: Path):
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    commit_file(repo, ".leakscan.yaml", SILENCING)
    trusted = tmp_path / "trusted.yaml"
    trusted.write_text("fail-on: high\nallow-repo-overrides: false\n")
    result = run("scan", str(repo), "--config", str(trusted))
    assert result.exit_code == 1, result.stderr
    config = repo / ".leakscan.yaml"
    assert f"leakscan: config {trusted} + {config}: fail-on high\n" in result.stderr
    assert "not applied from .leakscan.yaml: fail-on, exclude-paths" in result.stderr


def test_range_that_changes_the_config_uses_the_base_commits(repo: Path, tmp_path: Path):
    commit_file(repo, "README.md", "hello\n")
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    commit_file(repo, ".leakscan.yaml", "fail-on: never\n", "quietly silence the scan")
    result = run("scan", "--range", f"{base}..HEAD", str(repo))
    assert result.exit_code == 1, result.stderr
    assert (
        "the scanned commits try to change the scan policy (.leakscan.yaml); it was not applied: "
        f"the policy of the base commit {base[:12]} was used instead" in result.stderr
    )
    result = run("scan", "--range", f"{base}..HEAD", str(repo), "--trust-config-changes")
    assert result.exit_code == 0
    assert "--trust-config-changes applied the new version" in result.stderr


def test_range_cannot_change_a_rule_or_baseline_file_the_config_names(repo: Path):
    k = keys.key()
    commit_file(repo, ".leakscan.yaml", "baseline: known.json\nexclude-paths: [vendor/]\n")
    commit_file(repo, "known.json", '{"version": 1, "entries": []}\n')
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "app.py", f"K = '{k}'\n")
    silenced = run("baseline", str(repo), "-o", str(repo / "known.json"))
    assert silenced.exit_code == 0, silenced.stderr
    git(repo, "add", "known.json")
    git(repo, "commit", "-q", "-m", "baseline the new key")
    result = run("scan", "--range", f"{base}..HEAD", str(repo))
    assert result.exit_code == 1, result.stderr
    assert "(known.json); it was not applied" in result.stderr
    assert f"leakscan: config {base[:12]}:.leakscan.yaml: fail-on not set; excludes vendor/" in (
        result.stderr
    )
    default = run("scan", "--range", f"{base}..HEAD", str(repo), "--trust-config-changes")
    assert default.exit_code == 0


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
