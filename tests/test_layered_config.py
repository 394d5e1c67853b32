"""An organisation's config (--config or LEAKSCAN_CONFIG) and the repository's .leakscan.yaml
combine (issue 23): allow lists add up, the stricter fail-on wins, and `allow-repo-overrides: false`
in the org config drops the repository's relaxations. Announced on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from leakscan.fingerprint import preview
from tests import keys
from tests.conftest import plant, run, sha256


def findings(result) -> dict[str, dict | None]:
    return {f["preview"]: f["suppressed"] for f in json.loads(result.stdout)["findings"]}


def test_allow_lists_add_up_and_the_stricter_fail_on_wins(tmp_path: Path, monkeypatch):
    org_key, repo_key, other = keys.key(seed=1), keys.key(seed=2), keys.key("restricted", "test")
    plant(tmp_path, "app.py", f"A = '{org_key}'\nB = '{repo_key}'\nC = '{other}'\n")
    plant(tmp_path, ".leakscan.yaml",
          f"fail-on: low\nallow-secrets: ['{sha256(repo_key)}']\n")  # fmt: skip
    org = plant(
        tmp_path / "org", "org.yaml", f"fail-on: high\nallow-secrets: ['{sha256(org_key)}']\n"
    )
    monkeypatch.setenv("LEAKSCAN_CONFIG", str(org))
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.exit_code == 1, result.stderr  # the repository's `low` is stricter than `high`
    shown = findings(result)
    assert shown[preview(org_key)]["kind"] == "config"
    assert shown[preview(repo_key)]["kind"] == "config"
    assert shown[preview(other)] is None
    line = f"leakscan: config {org} + {tmp_path / '.leakscan.yaml'}: fail-on low; allows 2"
    assert line in result.stderr
    plant(tmp_path, ".leakscan.yaml", f"fail-on: never\nallow-secrets: ['{sha256(repo_key)}']\n")
    org.write_text(f"fail-on: critical\nallow-secrets: ['{sha256(org_key)}', '{sha256(other)}']\n")
    assert run("scan", str(tmp_path)).exit_code == 0  # `never` is not stricter than `critical`


def test_org_config_forbids_repository_relaxations(tmp_path: Path):
    k = keys.key()
    plant(tmp_path, "vendor/a.py", f"A = '{k}'\n")
    plant(tmp_path, ".leakscan.yaml",
          f"fail-on: never\nexclude-paths: [vendor/]\nallow-secrets: ['{sha256(k)}']\n")  # fmt: skip
    plant(tmp_path, ".leakscan-baseline.json", json.dumps({"version": 1, "entries": [
        {"rule_id": "stripe.secret-key.live", "secret_sha256": sha256(k)}]}))  # fmt: skip
    org = plant(tmp_path / "org", "org.yaml", "allow-repo-overrides: false\n")
    result = run("scan", str(tmp_path), "--config", str(org), "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert findings(result)[preview(k)] is None  # neither allowed, excluded nor baselined
    assert "not applied from .leakscan.yaml: fail-on, allow-secrets, exclude-paths" in result.stderr
    org.write_text("allow-repo-overrides: true\n")
    assert run("scan", str(tmp_path), "--config", str(org)).exit_code == 0


def test_allow_repo_overrides_must_be_a_boolean(tmp_path: Path):
    plant(tmp_path, ".leakscan.yaml", "allow-repo-overrides: nope\n")
    result = run("scan", str(tmp_path))
    assert (
        result.exit_code == 2 and "`allow-repo-overrides` must be true or false." in result.stderr
    )
