"""action.yml: lint it, then run its shell steps the way the runner does, on a real repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests import keys
from tests.conftest import ROOT, commit_file, make_repo
from tests.integration import step_command
from tests.sarif_check import assert_valid_sarif

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
_EXPR = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


def test_action_yml_passes_the_github_actions_schema():
    out = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions",
         str(ROOT / "action.yml")], capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_action_is_composite_and_thin():
    assert ACTION["runs"]["using"] == "composite"
    steps = ACTION["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert '"$GITHUB_ACTION_PATH"' in steps[1]["run"]


def test_action_install_is_pinned_by_commit_and_hashes():
    steps = ACTION["runs"]["steps"]
    # actions/setup-python v5.6.0 by its full commit SHA (a tag can be moved to other code)
    assert steps[0]["uses"] == "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
    install = steps[1]["run"]
    assert "--require-hashes" in install and "tools/action-requirements.txt" in install
    assert "--no-deps" in install and "--no-build-isolation" in install and "--no-index" in install
    lock = (ROOT / "tools" / "action-requirements.txt").read_text()
    pinned = dict(re.findall(r"^([a-z0-9-]+)==(\S+) \\$", lock, re.MULTILINE))
    blocks = re.split(r"^(?=[a-z0-9-]+==)", lock, flags=re.MULTILINE)[1:]
    assert blocks and all("--hash=sha256:" in b for b in blocks)  # every pin has its hashes
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is a dependency of leakscan but not in the Action's lock"
    assert "setuptools" in pinned  # the build backend, installed from the lock too
    assert set(ACTION["inputs"]) >= {"path", "mode", "base", "head", "fail-on", "format",
                                     "sarif-file", "args"}  # fmt: skip
    assert set(ACTION["outputs"]) == {"findings", "sarif-file", "exit-code", "error"}
    assert ACTION["branding"] == {"icon": "shield", "color": "purple"}
    for step in steps[1:]:  # inputs reach the shell only through env, never pasted into a script
        assert "${{" not in step["run"]


def run_step(step: dict, inputs: dict[str, str], env: dict[str, str], cwd: Path) -> int:
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | inputs
    step_env = {
        k: _EXPR.sub(lambda m: values[m.group(1)], str(v)) for k, v in step.get("env", {}).items()
    }
    script = cwd.parent / "step.sh"
    script.write_text(step["run"])
    return subprocess.run(step_command(script), cwd=cwd, env={**env, **step_env}).returncode


@pytest.fixture(scope="module")
def runner(installs) -> dict[str, str]:
    """A runner's environment after setup-python and the action's install step."""
    job = installs["action"]
    code, output = job.wait()
    assert code == 0, output
    return dict(job.data["runner_env"])  # type: ignore[call-overload]


def test_action_steps_scan_a_push_and_write_outputs(tmp_path, runner):
    repo = make_repo(tmp_path / "repo")
    before = commit_file(repo, "a.py", "a = 1\n")
    k = keys.key("secret", "live")
    after = commit_file(repo, "config.py", f"KEY = '{k}'\n")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": before, "after": after, "ref": "refs/heads/main"}))
    out, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    env = {**runner, "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event),
           "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    scan = ACTION["runs"]["steps"][2]
    assert run_step(scan, {"args": "--quiet --include-ignored"}, env, repo) == 1
    assert out.read_text().splitlines() == [
        "findings=1",
        "sarif-file=leakscan.sarif",
        "exit-code=1",
    ]
    sarif_text = (repo / "leakscan.sarif").read_text()
    assert_valid_sarif(sarif_text)
    assert "| critical | 1 |" in summary.read_text()
    assert k not in sarif_text + summary.read_text()
    out.unlink()
    assert run_step(scan, {"fail-on": "never", "format": "json"}, env, repo) == 0
    assert out.read_text().splitlines()[-1] == "exit-code=0"
    event.write_text(json.dumps({"before": after, "after": after}))
    assert run_step(scan, {"mode": "range", "base": before, "head": before}, env, repo) == 0


def readme_block(start: str) -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    return next(b for b in blocks if b.startswith(start))


def test_readme_workflow_is_a_valid_workflow_with_sarif_upload(tmp_path):
    workflow = readme_block("name: leakscan")
    doc = yaml.safe_load(workflow)
    assert doc["permissions"]["security-events"] == "write"
    steps = doc["jobs"]["leakscan"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert steps[2]["uses"] == "github/codeql-action/upload-sarif@v4"
    assert steps[2]["if"].startswith("always()")
    (tmp_path / "leakscan.yml").write_text(workflow)
    out = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(tmp_path / "leakscan.yml")], capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    hooks = yaml.safe_load(readme_block("repos:"))["repos"][0]["hooks"]
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == [h["id"] for h in manifest]
