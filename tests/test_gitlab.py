"""`--format gitlab`: GitLab's secret-detection report, validated against GitLab's published schema
(a copy under tests/gitlab_schema/, whose README says where it comes from)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from leakscan.report.gitlab import SCHEMA_VERSION
from tests import keys
from tests.conftest import make_repo, run
from tests.fleet import org
from tests.test_response import commit

SCHEMAS = Path(__file__).parent / "gitlab_schema"
DIST = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/master/dist/"


def validator() -> jsonschema.Draft7Validator:
    secret = json.loads((SCHEMAS / "secret-detection-report-format.json").read_text())
    common = json.loads((SCHEMAS / "security-report-format.json").read_text())
    assert common["self"]["version"] == SCHEMA_VERSION  # the version the report declares
    registry = Registry().with_resource(
        DIST + "security-report-format.json", Resource.from_contents(common)
    )
    return jsonschema.Draft7Validator(secret, registry=registry)


def errors(doc: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(doc)]


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, str, str, str]:
    repo = make_repo(tmp_path / "shop")
    live, test = keys.key("secret", "live", seed=61), keys.key("secret", "test", seed=62)
    added = commit(repo, {"app/settings.py": f"KEY = '{live}'\n"}, "add", 1)
    commit(repo, {"app/settings.py": "KEY = None\n", "t.py": f"T = '{test}'\n"}, "swap", 2)
    return repo, live, test, added


def test_history_report_is_valid_and_names_the_introducing_commit(shop):
    repo, live, test, added = shop
    result = run("scan", "--history", str(repo), "--format", "gitlab", "--show-secrets")
    assert result.exit_code == 1 and live not in result.stdout and test not in result.stdout
    doc = json.loads(result.stdout)
    assert errors(doc) == []
    assert doc["version"] == SCHEMA_VERSION and doc["scan"]["type"] == "secret_detection"
    assert doc["scan"]["status"] == "success"
    by_severity = {v["severity"]: v for v in doc["vulnerabilities"]}
    assert set(by_severity) == {"Critical", "Medium"}
    crit = by_severity["Critical"]
    assert crit["location"] == {"file": "app/settings.py", "start_line": 1, "end_line": 1,
                                "commit": {"sha": added, "date": "2024-01-01T12:00:00+00:00"}}  # fmt: skip
    assert crit["identifiers"][0]["value"] == "stripe.secret-key.live"
    assert f"{live[:8]}…{live[-4:]}" in crit["description"] and "removed in" in crit["description"]
    rerun = json.loads(run("scan", "--history", str(repo), "--format", "gitlab").stdout)
    assert [v["id"] for v in rerun["vulnerabilities"]] == [v["id"] for v in doc["vulnerabilities"]]


def test_tree_and_scan_many_reports_are_valid(shop, tmp_path: Path):
    repo = shop[0]
    doc = json.loads(run("scan", str(repo), "--format", "gitlab").stdout)
    assert errors(doc) == [] and len(doc["vulnerabilities"]) == 1
    assert doc["vulnerabilities"][0]["location"]["commit"] == {"sha": "0000000"}  # as GitLab's own
    org(tmp_path / "org", 3, keys.key("secret", "live", seed=63))
    many = json.loads(run("scan-many", str(tmp_path / "org"), "--format", "gitlab").stdout)
    assert errors(many) == [] and len(many["vulnerabilities"]) == 4
    assert {v["location"]["file"].split("/")[0] for v in many["vulnerabilities"]} == {
        "repo00", "repo01", "repo02"
    }  # fmt: skip


def test_the_schema_check_can_fail(shop):
    doc = json.loads(run("scan", "--history", str(shop[0]), "--format", "gitlab").stdout)
    del doc["vulnerabilities"][0]["identifiers"]
    doc["vulnerabilities"][1]["severity"] = "critical"
    doc["scan"]["end_time"] = "2024-01-01 12:00"
    assert len(errors(doc)) == 3
    # The schema's `required: [commit]` sits beside a `$ref`, which draft 7 ignores: the report's
    # own tests above hold every location to a commit instead.
