"""The downstream formats of issue 21: gitleaks' JSON report (read as DefectDojo reads it), CSV and
JUnit XML. Redaction of every format is also checked by tests/test_redaction.py."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from leakscan.cli.fast import parse_scan
from leakscan.model import ScanResult, ScanSummary
from leakscan.report import RENDERERS
from leakscan.report import csv as csv_report
from leakscan.report.options import RenderOptions
from tests import keys
from tests.conftest import RULES, commit_file, findings, make_repo, run, sha256

LIVE = keys.key("secret", "live", n=40, seed=2101)
TEST = keys.key("secret", "test", n=40, seed=2102)
PUBLISHABLE = keys.key("publishable", "live", n=40, seed=2103)
ALLOWED = keys.key("restricted", "live", n=40, seed=2104)
KEYS = (LIVE, TEST, PUBLISHABLE, ALLOWED)

# gitleaks v8 report/finding.go: the JSON names of `report.Finding` and their Go types.
GITLEAKS_FIELDS = {"RuleID": str, "Description": str, "StartLine": int, "EndLine": int,
                   "StartColumn": int, "EndColumn": int, "Match": str, "Secret": str, "File": str,
                   "SymlinkFile": str, "Commit": str, "Entropy": float, "Author": str,
                   "Email": str, "Date": str, "Message": str, "Tags": list,
                   "Fingerprint": str}  # fmt: skip


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LIVE twice in one file and once in another, TEST (medium), PUBLISHABLE (info), ALLOWED inline."""
    repo = make_repo(tmp_path_factory.mktemp("formats") / "repo")
    commit_file(repo, "app/settings.py", f"A = '{LIVE}'\n\nB = '{LIVE}'\nT = '{TEST}'\n")
    commit_file(repo, "web/.env", f"PK={PUBLISHABLE}\nSK={LIVE}\n")
    commit_file(repo, "ok.py", f"X = '{ALLOWED}'  # leakscan:allow\n")
    return repo


def scan(repo: Path, fmt: str, *args: str) -> str:
    result = run("scan", str(repo), "--format", fmt, "--jobs", "1", *args)
    assert result.exit_code == 1, result.stderr
    return result.stdout


def assert_no_key(text: str) -> None:
    for k in KEYS:
        assert k not in text and k[8:-4] not in text


# --- gitleaks-json ------------------------------------------------------------------------------


@pytest.mark.parametrize("history", [False, True])
def test_gitleaks_json_has_gitleaks_fields_and_types(repo: Path, history: bool):
    text = scan(repo, "gitleaks-json", *(["--history"] if history else []))
    assert_no_key(text)
    items = json.loads(text)
    assert len(items) == 5  # one per location of the four unsuppressed findings' places
    for item in items:
        assert list(item) == list(GITLEAKS_FIELDS)
        assert {k: type(v) for k, v in item.items()} == GITLEAKS_FIELDS
        assert all(isinstance(t, str) for t in item["Tags"])
        assert item["StartLine"] == item["EndLine"] and item["StartColumn"] <= item["EndColumn"]
        assert item["Secret"] == item["Match"] and "…" in item["Secret"]
        line = f"{item['File']}:{item['RuleID']}:{item['StartLine']}"
        if history:
            assert len(item["Commit"]) == 40 and item["Date"]
            assert item["Fingerprint"] == f"{item['Commit']}:{line}"
        else:
            assert item["Commit"] == "" and item["Fingerprint"] == line
    live = [i for i in items if i["RuleID"] == "stripe.secret-key.live"]
    assert {(i["File"], i["StartLine"]) for i in live} == {
        ("app/settings.py", 1), ("app/settings.py", 3), ("web/.env", 2)
    }  # fmt: skip
    assert live[0]["Tags"][:3] == ["severity:critical", "key-type:secret", "mode:live"]
    first = next(i for i in live if i["File"] == "app/settings.py" and i["StartLine"] == 1)
    assert (first["StartColumn"], first["EndColumn"]) == (
        6,
        5 + len(LIVE),
    )  # inclusive, as gitleaks
    assert "ok.py" not in {i["File"] for i in items}  # suppressed: left out, as gitleaks does


def test_gitleaks_json_shows_the_key_only_when_asked(repo: Path):
    items = json.loads(scan(repo, "gitleaks-json", "--show-secrets"))
    assert {i["Secret"] for i in items} == {LIVE, TEST, PUBLISHABLE}
    assert all(i["Match"] == i["Secret"] for i in items)


def test_gitleaks_json_without_findings_is_an_empty_list(tmp_path: Path):
    (tmp_path / "a.txt").write_text("nothing\n")
    result = run("scan", str(tmp_path), "--format", "gitleaks-json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def defectdojo_gitleaks(report: str) -> list[dict[str, Any]]:
    """DefectDojo's "Gitleaks Scan" import, its field access and arithmetic kept line for line:
    dojo/tools/gitleaks/parser.py of DefectDojo/django-DefectDojo (GitleaksParser.get_findings and
    get_finding_current; no custom tag). A `Finding` model becomes a dict; everything it reads from
    the report, and how (`.get`, `int()`, `+` on strings, `.split`), is as there, so a field of the
    wrong type or a missing `Description` fails here as it fails there."""
    issues = json.load(io.StringIO(report))
    if issues is None:
        return []
    dupes: dict[str, dict[str, Any]] = {}
    for issue in issues:
        if issue.get("rule"):
            raise AssertionError("read as a gitleaks v7 (legacy) report")
        elif issue.get("Description"):
            _current(issue, dupes)
        else:
            raise ValueError("Format is not recognized for Gitleaks")
    return list(dupes.values())


def _current(issue: dict[str, Any], dupes: dict[str, dict[str, Any]]) -> None:
    reason = issue.get("Description")
    line = issue.get("StartLine")
    line = int(line) if line else 0
    match = issue.get("Match")
    secret = issue.get("Secret")
    file_path = issue.get("File")
    commit = issue.get("Commit")
    date = issue.get("Date")
    message = issue.get("Message")
    tags = issue.get("Tags")
    rule_id = issue.get("RuleID", "SECRET_SCANNING")
    title = f"Hard coded {reason} found in {file_path}"
    description = ""
    if secret:
        description += f"**Secret:** {secret}\n"
    if match:
        description += f"**Match:** {match}\n"
    if message:
        if len(message.split("\n")) > 1:
            description += "**Commit message:**\n```\n" + message.replace("```", "\\`\\`\\`")
            description += "\n```\n"
        else:
            description += f"**Commit message:** {message}\n"
    if commit:
        description += f"**Commit hash:** {commit}\n"
    if date:
        description += f"**Commit date:** {date}\n"
    if rule_id:
        description += f"**Rule Id:** {rule_id}"
    if description[-1] == "\n":
        description = description[:-1]
    dupe_key = hashlib.md5((title + secret + str(line)).encode("utf-8")).hexdigest()  # type: ignore[operator]
    if dupe_key in dupes:
        dupes[dupe_key]["description"] += "\n\n***\n\n" + description
        dupes[dupe_key]["nb_occurences"] += 1
    else:
        dupes[dupe_key] = {"title": title, "cwe": 798, "description": description,
                           "severity": "High", "file_path": file_path, "line": line,
                           "nb_occurences": 1, "vuln_id_from_tool": rule_id,
                           "unsaved_tags": tags if tags else None}  # fmt: skip


@pytest.mark.parametrize("history", [False, True])
def test_defectdojo_imports_the_gitleaks_json(repo: Path, history: bool):
    report = scan(repo, "gitleaks-json", *(["--history"] if history else []))
    imported = defectdojo_gitleaks(report)
    by_place = {(f["file_path"], f["line"]): f for f in imported}
    assert set(by_place) == {("app/settings.py", 1), ("app/settings.py", 3),
                             ("app/settings.py", 4), ("web/.env", 1), ("web/.env", 2)}  # fmt: skip
    live = by_place[("app/settings.py", 1)]
    assert live["title"] == "Hard coded Stripe live secret key found in app/settings.py"
    assert live["vuln_id_from_tool"] == "stripe.secret-key.live"
    assert "severity:critical" in live["unsaved_tags"]
    assert ("**Commit hash:** " in live["description"]) == history
    assert_no_key(json.dumps(imported))


# --- csv ----------------------------------------------------------------------------------------


def test_csv_has_a_header_and_a_row_per_location(repo: Path):
    text = scan(repo, "csv", "--history")
    assert_no_key(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == csv_report.FIELDS
    assert len(rows) == 6  # five places and the suppressed one
    allowed = [r for r in rows if r["path"] == "ok.py"]
    assert [(r["suppressed"], r["secret_sha256"]) for r in allowed] == [("inline", sha256(ALLOWED))]
    live = [r for r in rows if r["rule_id"] == "stripe.secret-key.live"]
    assert {(r["path"], r["line"], r["column"]) for r in live} == {
        ("app/settings.py", "1", "6"), ("app/settings.py", "3", "6"), ("web/.env", "2", "4")
    }  # fmt: skip
    assert all(r["severity"] == "critical" and r["mode"] == "live" and r["suppressed"] == ""
               and len(r["commit"]) == 40 and r["author_date"] for r in live)  # fmt: skip


def test_csv_adds_a_secret_column_only_with_show_secrets(repo: Path):
    rows = list(csv.DictReader(io.StringIO(scan(repo, "csv", "--show-secrets"))))
    assert {r["secret"] for r in rows} == set(KEYS)


def test_csv_keeps_a_formula_looking_path_as_text():
    (f,) = findings(f"K = '{LIVE}'\n", path="=HYPERLINK(1)\n.py")
    text = RENDERERS["csv"](ScanResult(ScanSummary(".", "paths", 1, 1, 1), (f,)), RULES,
                            RenderOptions())  # fmt: skip
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["path"] == "'=HYPERLINK(1)\n.py"


# --- junit --------------------------------------------------------------------------------------


def cases(text: str) -> dict[str, ET.Element]:
    suite = ET.fromstring(text)
    assert suite.tag == "testsuite"
    return {c.get("classname", ""): c for c in suite.iter("testcase")}


@pytest.mark.parametrize("fail_on", ["medium", "critical"])
def test_junit_fails_what_fails_the_scan_and_skips_the_suppressed(repo: Path, fail_on: str):
    text = scan(repo, "junit", "--fail-on", fail_on)
    assert_no_key(text)
    suite = ET.fromstring(text)
    by_rule = cases(text)
    assert set(by_rule) == {"stripe.secret-key.live", "stripe.secret-key.test",
                            "stripe.publishable-key.live", "stripe.restricted-key.live"}  # fmt: skip
    failed = {r for r, c in by_rule.items() if c.find("failure") is not None}
    expected = {"stripe.secret-key.live"} | (
        {"stripe.secret-key.test"} if fail_on == "medium" else set()
    )
    assert failed == expected
    assert suite.get("tests") == "4" and suite.get("failures") == str(len(expected))
    skipped = by_rule["stripe.restricted-key.live"].find("skipped")
    assert skipped is not None and suite.get("skipped") == "1"
    assert skipped.get("message", "").startswith("suppressed (inline)")
    failure = by_rule["stripe.secret-key.live"].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "app/settings.py:3:6" in (failure.text or "") and "web/.env:2:4" in (failure.text or "")


def test_junit_never_shows_the_key(repo: Path):
    assert_no_key(scan(repo, "junit", "--show-secrets"))


def test_junit_stays_valid_xml_for_a_file_name_xml_cannot_hold():
    (f,) = findings(f"K = '{LIVE}'\n", path="a\x01<b>&.py")
    text = RENDERERS["junit"](ScanResult(ScanSummary(".", "paths", 1, 1, 1), (f,)), RULES,
                              RenderOptions())  # fmt: skip
    (case,) = cases(text).values()
    assert case.get("file") == "a\ufffd<b>&.py"


def test_every_new_format_is_a_choice_of_both_parsers(tmp_path: Path):
    empty = make_repo(tmp_path / "r")
    for fmt in ("gitleaks-json", "csv", "junit"):
        assert fmt in RENDERERS and parse_scan(["scan", "--format", fmt]).fmt == fmt  # type: ignore[union-attr]
        assert run("scan", str(empty), "--format", fmt).exit_code == 0
