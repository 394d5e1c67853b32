"""GitHub Actions: annotations, the step summary, and `leakscan ci github` on real repos and events."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from leakscan.model import Confidence, Finding, Location, ScanResult, ScanSummary, Severity
from leakscan.report import github
from leakscan.report.options import RenderOptions
from leakscan.settings import load_rules
from tests import keys
from tests.conftest import GIT_ENV, commit_file, git, run
from tests.sarif_check import assert_valid_sarif

RULES = load_rules(())
ZERO = "0" * 40


def finding(i: int, path: str = "src/app.py", severity: Severity = Severity.CRITICAL) -> Finding:
    return Finding("stripe.secret-key.live", "secret", "live", severity, Confidence.HIGH,
                   f"{i:064x}", f"sk_live_…{i:04d}", True, (Location(path, i + 1, 5, 110),),
                   "Rotate it now.")  # fmt: skip


def result_of(*findings: Finding) -> ScanResult:
    return ScanResult(ScanSummary(".", "range", 0, 3, 100), findings)


def test_annotation_properties_and_message_are_escaped():
    (line,) = github.annotation_lines(result_of(finding(0, "dir/a,b:c%d\r\ne.py")), RULES)
    assert line.startswith("::error file=dir/a%2Cb%3Ac%25d%0D%0Ae.py,line=1,col=5,endColumn=110,")
    assert "title=Stripe live secret key (critical)::" in line
    message = line.split("::", 2)[2]
    assert message == ("sk_live_…0000: Rotate this key now in the Stripe Dashboard and expire the "
                       "old one at once (full steps in the job summary).")  # fmt: skip
    assert "\n" not in line and "%0A" not in message


def test_annotations_use_each_levels_limit_then_a_line_for_the_rest():
    lines = github.annotation_lines(result_of(*(finding(i) for i in range(13))), RULES)
    assert len(lines) == 11 and all(x.startswith("::error ") for x in lines[:10])
    assert lines[10].startswith("::notice ") and "3 more finding(s)" in lines[10]
    assert github.escape_data("100%\n") == "100%25%0A"
    assert github.escape_property("a:b,c") == "a%3Ab%2Cc"
    mixed = [finding(i, severity=sev) for sev in (Severity.CRITICAL, Severity.MEDIUM, Severity.LOW)
             for i in range(12)]  # fmt: skip
    lines = github.annotation_lines(result_of(*mixed), RULES)
    levels = [x.split(" ", 1)[0] for x in lines]
    assert levels.count("::error") == 10 and levels.count("::warning") == 10
    assert levels.count("::notice") == 10  # 9 findings and the line about the 7 left out
    assert "7 more finding(s) not annotated" in lines[-1]
    for x in lines[
        :-1
    ]:  # title, location, one line of action; never the ~650-character remediation
        assert ",title=" in x and "file=" in x and len(x.split("::", 2)[2]) < 200
    warned = github.annotation_lines(result_of(*mixed[12:22]), RULES, ("::warning ::policy",))
    assert [x.split(" ", 1)[0] for x in warned].count("::warning") == 10


def test_summary_counts_table_and_what_to_do():
    f = [finding(0), finding(1, "a|b<x>.py", Severity.MEDIUM)]
    text = github.summary(result_of(*f), RULES, RenderOptions())
    assert "**2 finding(s)**, failing (`--fail-on medium`)" in text
    assert "| critical | 1 |" in text and "| medium | 1 |" in text
    assert "<code>sk_live_…0000</code>" in text and "a&#124;b&lt;x&gt;.py" in text
    assert "### What to do" in text and "Rotate it now" not in text  # the rule's own remediation
    assert RULES.rule("stripe.secret-key.live").remediation[:40] in text


def test_summary_stays_under_one_mebibyte():
    many = [finding(i, "deep/" * 40 + f"file{i}.py") for i in range(20_000)]
    text = github.summary(result_of(*many), RULES, RenderOptions())
    assert len(text.encode("utf-8")) <= 1024 * 1024
    assert "more finding(s) not shown here" in text and "| critical | 20000 |" in text


# --- `leakscan ci github` on real repositories --------------------------------------------------


def ci(repo: Path, tmp_path: Path, event_name: str, event: dict, *args: str):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    out, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    sarif_file = tmp_path / "leakscan.sarif"
    env = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_file),
           "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    result = run(
        "ci", "github", "--path", str(repo), "--sarif-file", str(sarif_file), *args, env=env
    )
    return result, out, summary, sarif_file


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())  # last one wins


def test_push_scans_before_to_after_only(repo, tmp_path):
    old = keys.key("secret", "live")
    commit_file(repo, "old.py", f"K = '{old}'\n")
    before = commit_file(repo, "x.py", "x = 1\n")
    new = keys.key("secret", "test")
    commit_file(repo, "new.py", f"K = '{new}'\n")
    after = commit_file(repo, "y.py", "y = 2\n")
    event = {"before": before, "after": after, "ref": "refs/heads/main"}
    result, out, summary, sarif_file = ci(repo, tmp_path, "push", event)
    assert result.exit_code == 1, result.stderr
    assert f"push: {before[:12]}..{after[:12]}" in result.stderr
    doc = assert_valid_sarif(sarif_file.read_text())
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["stripe.secret-key.test"]
    assert outputs(out) == {"findings": "1", "sarif-file": str(sarif_file)}
    assert "::warning file=new.py,line=1,col=6," in result.stdout
    text = summary.read_text()
    assert "| medium | 1 |" in text and new[:8] + "…" + new[-4:] in text
    for k in (old, new):
        assert k not in result.stdout + result.stderr + text + sarif_file.read_text()


def test_push_of_a_new_branch_scans_from_the_default_branch(repo, tmp_path):
    main_key = keys.key("secret", "live")
    base = commit_file(repo, "main.py", f"K = '{main_key}'\n")
    git(repo, "update-ref", "refs/remotes/origin/main", base)
    git(repo, "checkout", "-q", "-b", "feature")
    branch_key = keys.key("restricted", "live")
    after = commit_file(repo, "f.py", f"K = '{branch_key}'\n")
    git(repo, "update-ref", "refs/remotes/origin/feature", after)  # actions/checkout fetches it too
    event = {"before": ZERO, "after": after, "ref": "refs/heads/feature", "created": True,
             "repository": {"default_branch": "main"}}  # fmt: skip
    result, _, _, sarif_file = ci(repo, tmp_path, "push", event)
    assert result.exit_code == 1
    assert "push of a new branch: the commits not on main" in result.stderr
    doc = assert_valid_sarif(sarif_file.read_text())
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["stripe.restricted-key.live"]


def test_first_push_of_a_repository_scans_everything(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n")
    after = commit_file(repo, "a.py", "K = None\n")
    event = {"before": ZERO, "after": after, "ref": "refs/heads/main",
             "repository": {"default_branch": "main"}}  # fmt: skip
    result, _out, _, sarif_file = ci(repo, tmp_path, "push", event)
    assert result.exit_code == 1 and "the whole history" in result.stderr
    doc = assert_valid_sarif(sarif_file.read_text())
    assert doc["runs"][0]["results"][0]["properties"]["presentAtHead"] is False


def test_force_push_scans_what_the_new_head_adds(repo, tmp_path):
    base = commit_file(repo, "a.py", "a = 1\n")
    old_key = keys.key("secret", "live")
    before = commit_file(repo, "b.py", f"K = '{old_key}'\n")
    git(repo, "reset", "-q", "--hard", base)
    new_key = keys.key("secret", "test")
    after = commit_file(repo, "c.py", f"K = '{new_key}'\n")
    event = {"before": before, "after": after, "ref": "refs/heads/main", "forced": True}
    result, _, _, sarif_file = ci(repo, tmp_path, "push", event)
    assert result.exit_code == 1 and "force push" in result.stderr
    doc = assert_valid_sarif(sarif_file.read_text())
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["stripe.secret-key.test"]
    # the old head is gone from the clone: fall back to the default branch's fork point
    git(repo, "update-ref", "refs/remotes/origin/main", base)
    gone = {
        **event,
        "before": "1" * 40,
        "repository": {"default_branch": "main"},
        "ref": "refs/heads/x",
    }
    result, _, _, sarif_file = ci(repo, tmp_path, "push", gone)
    assert result.exit_code == 1 and "old head is not in this clone" in result.stderr


def test_pull_request_scans_base_to_head(repo, tmp_path):
    base = commit_file(repo, "a.py", f"K = '{keys.key('secret', 'live')}'\n")
    git(repo, "checkout", "-q", "-b", "pr")
    commit_file(repo, "b.py", "clean = True\n")
    head = git(repo, "rev-parse", "HEAD")
    event = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    result, out, summary, sarif_file = ci(repo, tmp_path, "pull_request", event)
    assert result.exit_code == 0, result.stderr
    assert outputs(out)["findings"] == "0"
    assert "No unsuppressed Stripe credentials found." in summary.read_text()
    assert assert_valid_sarif(sarif_file.read_text())["runs"][0]["results"] == []


def test_schedule_and_dispatch_scan_the_whole_history(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n")
    commit_file(repo, "a.py", "K = None\n")
    for name in ("schedule", "workflow_dispatch"):
        result, _, _, sarif_file = ci(repo, tmp_path, name, {})
        assert result.exit_code == 1 and f"the whole history ({name} event)" in result.stderr
        assert len(assert_valid_sarif(sarif_file.read_text())["runs"][0]["results"]) == 1


def test_shallow_checkout_asks_for_fetch_depth_0(repo, tmp_path):
    commit_file(repo, "a.py", "a = 1\n")
    before = commit_file(repo, "b.py", "b = 1\n")
    after = commit_file(repo, "c.py", "c = 1\n")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
                   check=True, env={**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # fmt: skip
    result, out, summary, sarif_file = ci(shallow, tmp_path, "push",
                                          {"before": before, "after": after})  # fmt: skip
    assert result.exit_code == 2
    assert "fetch-depth: 0" in result.stderr and "Traceback" not in result.stderr
    assert not sarif_file.exists()
    assert outputs(out)["error"].startswith("this checkout is shallow")
    assert outputs(out)["findings"] == "" and outputs(out)["sarif-file"] == ""
    text = summary.read_text()
    assert "## leakscan: the scan did not finish" in text
    assert "**What failed:** this checkout is shallow" in text
    assert "**Fix:** Set `fetch-depth: 0` on actions/checkout" in text
    assert result.stdout.startswith("::error title=leakscan: the scan did not finish::")


def test_an_incomplete_scan_writes_summary_and_outputs_too(repo, tmp_path):
    from tests.test_bad_inputs import CATASTROPHIC_RULE

    rule = tmp_path / "slow.yaml"
    rule.write_text(CATASTROPHIC_RULE)
    commit_file(repo, "f.txt", "a" * 40 + "!\n")
    result, out, summary, sarif_file = ci(repo, tmp_path, "push", {}, "--mode", "tree",
                                          "--rules", str(rule), "--rule-timeout", "0.05")  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert outputs(out)["error"].startswith("the scan did not finish: f.txt: rule(s) acme.slow")
    assert outputs(out)["sarif-file"] == str(sarif_file)
    assert "**What failed:** the scan did not finish: f.txt" in summary.read_text()
    doc = assert_valid_sarif(sarif_file.read_text())
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_pull_request_that_changes_the_policy_is_scanned_with_the_base_policy(repo, tmp_path):
    base = commit_file(repo, "README.md", "hello\n")
    git(repo, "checkout", "-q", "-b", "pr")
    commit_file(repo, "app.py", f"K = '{keys.key()}'\n")
    head = commit_file(repo, ".leakscan.yaml", "fail-on: never\nexclude-paths: ['*']\n")
    event = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    result, out, summary, sarif_file = ci(repo, tmp_path, "pull_request", event)
    assert result.exit_code == 1, result.stderr
    assert outputs(out)["findings"] == "1"
    assert len(assert_valid_sarif(sarif_file.read_text())["runs"][0]["results"]) == 1
    assert "> **Warning:** the scanned commits try to change the scan policy (.leakscan.yaml)" in (
        summary.read_text()
    )
    assert "\n::warning title=leakscan: scan policy change::the scanned" in result.stdout
    trusting, out, _, _ = ci(repo, tmp_path, "pull_request", event, "--trust-config-changes")
    assert trusting.exit_code == 0 and "applied the new version" in trusting.stderr


def test_modes_tree_and_range_from_inputs(repo, tmp_path):
    k = keys.key("secret", "live")
    first = commit_file(repo, "a.py", f"K = '{k}'\n")
    commit_file(repo, "b.py", "b = 1\n")
    result, _, _, _ = ci(repo, tmp_path, "push", {}, "--mode", "tree")
    assert result.exit_code == 1 and "the working tree" in result.stderr
    result, _, _, _sarif_file = ci(
        repo, tmp_path, "schedule", {}, "--mode", "range", "--base", first
    )
    assert result.exit_code == 0 and "(mode: range)" in result.stderr
    result, _, _, _ = ci(repo, tmp_path, "schedule", {}, "--mode", "range")
    assert result.exit_code == 2 and "set the `base` input" in result.stderr


def test_deleted_branch_push_scans_nothing_and_passes(repo, tmp_path):
    commit_file(repo, "a.py", f"K = '{keys.key('secret', 'live')}'\n")
    result, out, _, sarif_file = ci(repo, tmp_path, "push", {"deleted": True, "after": ZERO})
    assert result.exit_code == 0 and "nothing to scan" in result.stderr
    assert outputs(out)["findings"] == "0"
    assert_valid_sarif(sarif_file.read_text())


def test_github_format_and_ci_never_print_a_key_even_with_show_secrets(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n")
    shown = run("scan", str(repo), "--format", "github", "--show-secrets")
    assert shown.exit_code == 1 and shown.stdout.startswith("::error file=a.py,line=1,col=6,")
    assert k not in shown.stdout + shown.stderr
    result, out, summary, sarif_file = ci(repo, tmp_path, "schedule", {}, "--show-secrets", "-v")
    assert result.exit_code == 1
    assert k not in sarif_file.read_text() + summary.read_text() + out.read_text()
    assert_valid_sarif(sarif_file.read_text())
