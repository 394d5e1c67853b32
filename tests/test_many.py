"""`scan-many` end to end on real repositories: both executors, failures, retries, incremental runs."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leakscan.many.repolist import read_source
from leakscan.many.run import Plan, scan_many
from leakscan.many.state import State
from leakscan.many.task import RepoOutcome, RepoTask, run_repo_task
from leakscan.workers import each_task
from leakscan.workers.pool import LocalExecutor
from tests import keys
from tests.conftest import LEAKSCAN, read_terminal, run, scan_json, sha256
from tests.fleet import fast_repo, org

SHARED = keys.key("secret", "live", seed=7)
COUNT = 21


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    top = tmp_path_factory.mktemp("org")
    return top, org(top, COUNT, SHARED)


def test_local_and_dask_executors_agree_and_each_secret_appears_once(fleet):
    top, own = fleet
    code, local, err = scan_json(str(top), "--jobs", "2", command="scan-many")
    assert code == 1, err
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:  # fmt: skip
        code, dask, err = scan_json(str(top), "--executor", "dask",
                                    "--scheduler", cluster.scheduler_address, command="scan-many")  # fmt: skip
    assert code == 1, err
    assert dask["findings"] == local["findings"]
    assert (dask["scan"]["blobs"], dask["scan"]["bytes"]) == (
        local["scan"]["blobs"],
        local["scan"]["bytes"],
    )
    findings = local["findings"]
    assert len(findings) == COUNT + 1  # each repository's own key, and the shared key once
    assert len({f["secret_sha256"] for f in findings}) == len(findings)
    (shared,) = [f for f in findings if f["secret_sha256"] == sha256(SHARED)]
    assert shared["severity"] == "critical" and shared["present_at_head"] is True
    assert [loc["repository"] for loc in shared["locations"]] == [
        f"repo{i:02d}" for i in range(0, COUNT, 3)
    ]
    assert {loc["path"] for loc in shared["locations"]} == {"deploy/env.sh"}
    for name, secret in own.items():
        (f,) = [f for f in findings if f["secret_sha256"] == sha256(secret)]
        (loc,) = f["locations"]
        assert (loc["repository"], loc["path"], loc["line"]) == (name, "settings.py", 1)
        assert len(loc["commit"]) == 40 and f["present_at_head"] is False
    text = json.dumps(local)
    assert SHARED not in text and not any(s in text for s in own.values())


def test_text_report_names_the_repository_and_never_the_key(fleet):
    top, _ = fleet
    result = run("scan-many", str(top), "--jobs", "2", "--no-color", "-v")
    assert result.exit_code == 1
    assert "repo03: deploy/env.sh:1:19" in result.stdout
    assert "leakscan: [21/21] " in result.stderr
    assert "21 repositories: 21 scanned in full" in result.stderr
    assert SHARED not in result.stdout + result.stderr
    shown = run("scan-many", str(top), "--jobs", "2", "--show-secrets", "--format", "json")
    assert SHARED in shown.stdout


def test_sarif_to_a_directory_is_one_log_per_repository(fleet, tmp_path):
    from tests.sarif_check import assert_valid_sarif

    top, own = fleet
    out = tmp_path / "sarif"
    out.mkdir()  # an existing directory is fine
    result = run("scan-many", str(top), "--jobs", "2", "--format", "sarif", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert f"wrote {COUNT} SARIF file(s), one per repository, to {out}" in result.stderr
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"repo{i:02d}.sarif" for i in range(COUNT)]
    for path in files:
        name = path.stem
        doc = assert_valid_sarif(path.read_text())
        (provenance,) = doc["runs"][0]["versionControlProvenance"]
        assert provenance["repositoryUri"] == (top / name).as_uri()
        head = subprocess.run(["git", "-C", str(top / name), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        assert provenance["revisionId"] == head
        assert provenance["mappedTo"] == {"uriBaseId": "%SRCROOT%"}
        hashes = {r["partialFingerprints"]["leakscan/secret-sha256/v1"]: r
                  for r in doc["runs"][0]["results"]}  # fmt: skip
        expected = {sha256(own[name])} | ({sha256(SHARED)} if int(name[4:]) % 3 == 0 else set())
        assert set(hashes) == expected
        for r in hashes.values():  # paths relative to this repository, no other repository's
            uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
                    for loc in r["locations"] + r.get("relatedLocations", [])]  # fmt: skip
            assert set(uris) <= {"settings.py", "deploy/env.sh"} and len(uris) == 1
            assert "repository" not in json.dumps(r["locations"])
    merged = run("scan-many", str(top), "--jobs", "2", "--format", "json")
    assert len(json.loads(merged.stdout)["findings"]) == COUNT + 1  # the merged JSON as it was


def test_a_corrupt_repository_and_a_failed_clone_exit_2_and_the_others_are_reported(
    fleet, tmp_path
):
    top, own = fleet
    bad = tmp_path / "corrupt"
    shutil.copytree(top / "repo01", bad)
    oid = subprocess.run(["git", "-C", str(bad), "rev-parse", "main:app.py"], capture_output=True,
                         text=True, check=True).stdout.strip()  # fmt: skip
    (bad / ".git" / "objects" / oid[:2] / oid[2:]).unlink()  # a blob every commit holds is gone
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "# the organisation\n\n"
        + "".join(f"{top / name}\n" for name in sorted(own)[2:])
        + f"{bad}\nfile://{tmp_path / 'nowhere'}  # deleted last week\nfile://{top / 'repo00'}\n"
    )
    code, doc, err = scan_json(str(listing), "--jobs", "2", command="scan-many")
    assert code == 2
    failed = {k["path"]: k for k in doc["scan"]["skipped"] if k["incomplete"]}
    assert set(failed) == {str(bad), f"file://{tmp_path / 'nowhere'}"}
    assert "could not clone" in failed[f"file://{tmp_path / 'nowhere'}"]["reason"]
    assert "2 of 22 repositories could not be scanned:" in err
    repos = {loc["repository"] for f in doc["findings"] for loc in f["locations"]}
    assert f"file://{top / 'repo00'}" in repos and str(top / "repo20") in repos
    assert len(repos) == 20


def _crash_first_try(task: RepoTask) -> RepoOutcome:
    if task.spec.name == "repo01" and task.attempt == 0:
        os._exit(3)
    return run_repo_task(task)


def _crash_always(task: RepoTask) -> RepoOutcome:
    if task.spec.name == "repo01":
        os._exit(3)
    return run_repo_task(task)


def _plan() -> Plan:
    from leakscan.match.engine import compile_matcher
    from leakscan.settings import Settings, load_rules

    rules = load_rules(())
    return Plan(Settings(rules, compile_matcher(rules.rules)), State(), "x", 1 << 30)


def test_a_worker_that_dies_is_retried_once(fleet):
    top, _ = fleet
    specs = read_source(top)[:4]
    for fn, failed in ((_crash_first_try, ()), (_crash_always, ("repo01",))):
        executor = LocalExecutor(each_task(fn), 2)
        try:
            done = scan_many(specs, _plan(), executor, target=str(top))
        finally:
            executor.close()
        assert tuple(k.path for k in done.failed) == failed
        repos = {loc.repository for f in done.result.findings for loc in f.locations}
        assert repos == {"repo00", "repo02", "repo03"} | ({"repo01"} - set(failed))
    assert "the worker process died (exit code 3), on the first try and on the retry" in (
        done.failed[0].reason
    )


def test_a_large_repository_is_split_into_shards_with_the_same_result(fleet, tmp_path):
    top, _ = fleet
    listing = tmp_path / "some.txt"
    listing.write_text("".join(f"{top / f'repo{i:02d}'}\n" for i in range(4)))
    whole = scan_json(str(listing), "--jobs", "1", command="scan-many")[1]
    code, sharded, _ = scan_json(
        str(listing), "--jobs", "2", "--shard-size", "100", command="scan-many"
    )
    assert code == 1
    assert sharded["findings"] == whole["findings"] and len(whole["findings"]) == 5
    assert sharded["scan"]["blobs"] == whole["scan"]["blobs"] == 18


def test_incremental_runs_scan_only_new_commits(tmp_path):
    top = tmp_path / "org"
    org(top, 4, SHARED)
    state = tmp_path / "state.json"
    code, first, _ = scan_json(str(top), "--state", str(state), "--jobs", "1", command="scan-many")
    assert code == 1 and first["scan"]["mode"] == "history" and first["scan"]["blobs"] == 18
    saved = json.loads(state.read_text())
    assert set(saved["repositories"]) == {str(top / f"repo{i:02d}") for i in range(4)}
    assert (
        saved["repositories"][str(top / "repo01")]["refs/heads/main"]
        == subprocess.run(
            ["git", "-C", str(top / "repo01"), "rev-parse", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )

    code, second, _ = scan_json(str(top), "--state", str(state), "--jobs", "1", command="scan-many")
    (still,) = second["findings"]  # nothing new was read, and the key at HEAD is still reported
    assert (code, second["scan"]["blobs"], still["status"]) == (1, 0, "open")
    assert still["secret_sha256"] == sha256(SHARED) and second["scan"]["fixed"] == []
    assert {loc["repository"] for loc in still["locations"]} == {"repo00", "repo03"}
    assert "0 scanned in full, 4 since the last run" in " ".join(second["scan"]["notes"])

    new = keys.key("restricted", "live", seed=99)
    fast_repo(top / "repo02", [{"billing.py": f"KEY = '{new}'\n"}], start=10)
    fast_repo(top / "repo02", [{"notes.txt": "nothing\n"}], branch="feature", start=20, base="main")
    code, third, _ = scan_json(str(top), "--state", str(state), "--jobs", "1", command="scan-many")
    assert code == 1 and third["scan"]["mode"] == "range"
    assert third["scan"]["blobs"] == 2  # billing.py and notes.txt: no old blob read again
    f, shared = sorted(third["findings"], key=lambda f: f["status"])
    assert f["secret_sha256"] == sha256(new) and f["locations"][0]["repository"] == "repo02"
    assert (f["status"], shared["status"], shared["secret_sha256"]) == (
        "new",
        "open",
        sha256(SHARED),
    )
    assert (
        "refs/heads/feature" in json.loads(state.read_text())["repositories"][str(top / "repo02")]
    )


def test_other_rules_make_the_state_stale(tmp_path):
    top = tmp_path / "org"
    org(top, 2, SHARED)
    state = tmp_path / "state.json"
    assert (
        scan_json(str(top), "--state", str(state), "-j", "1", command="scan-many")[1]["scan"][
            "blobs"
        ]
        == 9
    )
    rule = tmp_path / "acme.yaml"
    rule.write_text("rules:\n  - id: acme.token\n    title: Acme token\n    severity: high\n"
                    "    keywords: [acme_]\n    regex: 'acme_[a-z0-9]{32}'\n"
                    "    remediation: Revoke it.\n")  # fmt: skip
    again = scan_json(
        str(top), "--state", str(state), "-j", "1", "--rules", str(rule), command="scan-many"
    )[1]
    assert again["scan"]["mode"] == "history" and again["scan"]["blobs"] == 9


def test_source_lists_and_bad_input(tmp_path):
    top = tmp_path / "org"
    org(top, 1, SHARED)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# none yet\n\n   \n# {top}\n")
    result = run("scan-many", str(listing))
    assert result.exit_code == 2 and "names no repository" in result.stderr
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = run("scan-many", str(top), "--state", str(state))
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    result = run("scan-many", str(top), "--executor", "dask")
    assert result.exit_code == 2 and "--scheduler" in result.stderr
    listing.write_text("org/repo00\norg/repo00\nhttps://ci:hunter2hunter2@git.example/a.git\n")
    specs = read_source(listing)
    assert [s.name for s in specs] == ["org/repo00", "https://ci:***@git.example/a.git"]
    assert specs[0].location == str(top / "repo00") and "hunter2" not in repr(specs)
    assert run("scan-many", str(tmp_path / "absent.txt")).exit_code == 2
    result = run("scan-many", str(top / "repo00"))
    assert result.exit_code == 2 and "is a repository itself" in result.stderr


def test_dask_missing_is_one_sentence_and_exit_2(tmp_path):
    top = tmp_path / "org"
    org(top, 1, SHARED)
    code = ("import sys; sys.modules['distributed'] = None; from leakscan.cli.app import main; "
            "sys.argv = ['leakscan', 'scan-many', sys.argv[1], '--executor', 'dask', "
            "'--scheduler', 'tcp://127.0.0.1:1']; main()")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, str(top)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == ("leakscan: error: --executor dask needs Dask distributed; install it "
                           "with `pip install 'leakscan[dask]'`.\n")  # fmt: skip


def test_what_crosses_the_wire_holds_no_raw_key(fleet):
    top, _ = fleet
    (spec,) = [s for s in read_source(top) if s.name == "repo03"]
    task = RepoTask(spec, _plan().settings)
    wire = pickle.dumps(run_repo_task(task))
    assert SHARED.encode() not in wire and b"deploy/env.sh" in wire
    shown = pickle.dumps(run_repo_task(RepoTask(spec, _plan().settings, show_secrets=True)))
    assert SHARED.encode() in shown


def test_python_dash_m_runs_scan_many_with_worker_processes(tmp_path):
    top = tmp_path / "org"
    org(top, 3, SHARED)
    proc = subprocess.run([*LEAKSCAN, "scan-many", str(top), "-j", "2",
                           "--format", "json"], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [loc["repository"] for f in doc["findings"] for loc in f["locations"]] == [
        "repo00", "repo00", "repo01", "repo02"
    ]  # fmt: skip


def test_progress_shows_on_a_terminal(tmp_path):
    import pty

    top = tmp_path / "org"
    org(top, 3, SHARED)
    master, slave = pty.openpty()
    proc = subprocess.run([*LEAKSCAN, "scan-many", str(top), "-j", "1",
                           "--format", "json", "-o", str(tmp_path / "r.json")],
                          stdout=subprocess.DEVNULL, stderr=slave, timeout=120, check=False)  # fmt: skip
    os.close(slave)
    shown = read_terminal(master)
    os.close(master)
    assert proc.returncode == 1
    text = shown.decode()
    assert "1/3 repositories" in text and "3/3 repositories" in text and "/s" in text
    assert SHARED not in text


def test_incremental_run_across_a_force_push_finds_the_rewritten_commits_key(tmp_path):
    """A force-push replaces the branch tip the state remembers with a rewritten commit holding a
    new key: the next --state run scans what the new tip has that the old one did not, and
    finds it (the old tip is no ancestor of the new one); the keys still open stay reported."""
    top = tmp_path / "org"
    org(top, 2, SHARED)
    state = tmp_path / "state.json"
    code, _, _ = scan_json(str(top), "--state", str(state), "--jobs", "1", command="scan-many")
    assert code == 1
    repo = top / "repo01"
    old_tip = subprocess.run(["git", "-C", str(repo), "rev-parse", "main"], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
    subprocess.run(["git", "-C", str(repo), "update-ref", "refs/heads/main", "main~1"], check=True)
    new = keys.key("secret", "live", seed=123)
    fast_repo(repo, [{"settings.py": f"STRIPE_KEY = '{new}'\n"}], start=30)
    assert subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", old_tip, "main"],
                          capture_output=True).returncode == 1  # fmt: skip
    code, second, err = scan_json(
        str(top), "--state", str(state), "--jobs", "1", command="scan-many"
    )
    assert code == 1, err
    found = {f["secret_sha256"]: f for f in second["findings"]}
    assert sha256(new) in found and found[sha256(new)]["status"] == "new"
    assert [loc["repository"] for loc in found[sha256(new)]["locations"]] == ["repo01"]
    # the merged report keeps the key the first run found at HEAD (repo00's), as still open
    assert found[sha256(SHARED)]["status"] == "open"
