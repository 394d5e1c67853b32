"""History and range scans on real repositories built in tmp_path (no mocks)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from leakscan.match.engine import compile_matcher
from leakscan.scan.blobs import scan_blobs
from leakscan.settings import Settings, load_rules
from leakscan.sources import history
from leakscan.sources.git import BlobRef
from tests import keys
from tests.conftest import (
    LEAKSCAN,
    commit_file,
    commit_on_branch,
    git,
    make_repo,
    read_terminal,
    run,
    scan_json,
)

HISTORY_ONLY_START = "This key is in the repository's history only: deleting the line does not help"


def author_date(repo: Path, commit: str) -> str:
    return git(repo, "log", "-1", "--format=%aI", commit)


def unique_blobs(repo: Path, *revs: str) -> set[str]:
    ids = git(repo, "rev-list", "--objects", *(revs or ("--all",))).split("\n")
    listing = "\n".join(line.split(" ")[0] for line in ids if line) + "\n"
    out = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-check"], input=listing,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return {line.split()[0] for line in out.splitlines() if line.split()[1] == "blob"}


def test_key_added_then_removed_is_history_only(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "README.md", "hello\n", "start")
    first = commit_file(repo, "app/settings.py", f"import os\nKEY = '{k}'\n", "add key")
    commit_file(repo, "app/settings.py", "import os\nKEY = os.environ['KEY']\n", "remove key")
    code, doc, err = scan_json("--history", str(repo), jobs=1)
    assert code == 1 and k not in json.dumps(doc) + err
    assert doc["scan"]["mode"] == "history" and doc["scan"]["files"] == 0
    (f,) = doc["findings"]
    assert f["present_at_head"] is False
    # what the exposure window implies comes first (docs/decisions.md), then the history-only warning
    assert f["remediation"].startswith("It reached the default branch (main)")
    assert HISTORY_ONLY_START in f["remediation"]
    assert f["locations"] == [
        {"path": "app/settings.py", "line": 2, "column": 8, "end_column": 8 + len(k),
         "commit": first, "author_date": author_date(repo, first), "encoding": "plain"}
    ]  # fmt: skip


def test_text_report_names_commit_and_history_only(repo):
    k = keys.key("secret", "live")
    first = commit_file(repo, "a.py", f"K = '{k}'\n", "add")
    commit_file(repo, "a.py", "K = None\n", "remove")
    result = run("scan", "--history", str(repo), "--no-color")
    assert result.exit_code == 1
    assert f"a.py:1:6  commit {first[:12]}" in result.stdout
    assert "in history only" in result.stdout
    assert k not in result.stdout + result.stderr


def test_key_on_side_branch_then_merged(repo):
    k = keys.key("restricted", "live")
    commit_file(repo, "README.md", "hello\n", "start")
    side = commit_on_branch(repo, "side", "side.py", f"K = '{k}'\n", "side work")
    commit_file(repo, "main.py", "x = 1\n", "main work")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert code == 1 and f["present_at_head"] is True
    assert [(loc["path"], loc["commit"]) for loc in f["locations"]] == [("side.py", side)]
    assert HISTORY_ONLY_START not in f["remediation"]


def test_same_blob_under_two_paths_is_one_finding_read_once(repo):
    k = keys.key("secret", "test")
    text = f"KEY = '{k}'\n"
    first = commit_file(repo, "a/config.py", text, "one")
    second = commit_file(repo, "b/copy.py", text, "two")
    _code, doc, _ = scan_json("--history", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert [(loc["path"], loc["commit"]) for loc in f["locations"]] == [
        ("a/config.py", first), ("b/copy.py", second)
    ]  # fmt: skip
    assert doc["scan"]["blobs"] == len(unique_blobs(repo)) == 1


def test_key_in_a_tag_only(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "README.md", "hello\n", "start")
    git(repo, "checkout", "-q", "-b", "release")
    tagged = commit_file(repo, "deploy.env", f"STRIPE_SECRET_KEY={k}\n", "release config")
    git(repo, "tag", "-a", "v1", "-m", "v1")
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "release")
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert code == 1 and f["present_at_head"] is False
    assert f["locations"][0]["commit"] == tagged and f["locations"][0]["path"] == "deploy.env"


def test_key_renamed_across_files(repo):
    k = keys.webhook()
    first = commit_file(repo, "old_name.py", f"WEBHOOK = '{k}'\n", "add")
    git(repo, "mv", "old_name.py", "new_name.py")
    git(repo, "commit", "-q", "-m", "rename")
    renamed = git(repo, "rev-parse", "HEAD")
    _code, doc, _ = scan_json("--history", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert f["present_at_head"] is True
    assert [(loc["path"], loc["commit"]) for loc in f["locations"]] == [
        ("new_name.py", renamed), ("old_name.py", first)
    ]  # fmt: skip


def test_deleted_branch_found_only_with_unreachable(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "README.md", "hello\n", "start")
    lost = commit_on_branch(repo, "oops", "leak.py", f"K = '{k}'\n", "oops")
    git(repo, "branch", "-q", "-D", "oops")
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 0 and doc["findings"] == []
    assert doc["scan"]["blobs"] == len(unique_blobs(repo)) == 1  # the lost blob is not counted
    code, doc, _ = scan_json("--history", "--unreachable", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert code == 1 and f["present_at_head"] is False and doc["scan"]["blobs"] == 2
    assert (f["locations"][0]["path"], f["locations"][0]["commit"]) == ("leak.py", lost)
    assert any("object database" in n for n in doc["scan"]["notes"])


def test_summary_and_verbose_say_what_a_history_scan_read_and_dropped(repo):
    """The progress bar counts every blob read (the unreachable ones too); the summary says the
    difference, and --verbose what was read, dropped and where the time went (issue 21)."""
    k = keys.key("secret", "live")
    commit_file(repo, "README.md", "hello\n", "start")
    commit_on_branch(repo, "oops", "leak.py", f"K = '{k}'\n", "oops")
    git(repo, "branch", "-q", "-D", "oops")
    lost = len(f"K = '{k}'\n")
    result = run("scan", "--history", str(repo), "--verbose", "--no-color", "--jobs", "1")
    assert result.exit_code == 0 and k not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[1:4] == [
        f"leakscan: history: 1 ref(s), 2 commit(s); 2 blobs ({6 + lost} B) in the object database",
        (
            "leakscan: history: 2 blobs read and matched once each, 1 of them through the rules (they "
            "held a keyword)"
        ),
        (
            f"leakscan: history: 1 blobs (6 B) scanned; 1 unreachable blobs ({lost} B) read and not "
            "reported (--unreachable reports them)"
        ),
    ]
    phases = r"listing [\d.]+s, reading and matching [\d.]+s, waiting for the walk [\d.]+s, " \
        r"attributing [\d.]+s, exposure windows [\d.]+s"  # fmt: skip
    assert re.fullmatch(f"leakscan: history: time: {phases}", lines[4])
    assert lines[-1] == (
        "leakscan: 0 finding(s); 1 blobs, 6 B scanned; 1 unreachable blobs read and not reported "
        "(--unreachable reports them) — passing (--fail-on medium)"
    )
    everything = run("scan", "--history", "--unreachable", str(repo), "--no-color", "--jobs", "1")
    assert "unreachable blobs read" not in everything.stderr


def test_blob_in_no_commit_found_with_unreachable(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "README.md", "hello\n", "start")
    (repo / "staged.py").write_text(f"K = '{k}'\n")
    git(repo, "add", "staged.py")
    git(repo, "reset", "-q")
    _code, doc, _ = scan_json("--history", "--unreachable", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert f["locations"][0]["commit"] is None and "in no commit" in f["locations"][0]["path"]


def test_no_blob_is_read_or_scanned_twice(repo):
    k = keys.key("secret", "live")
    text = f"K = '{k}'\n"
    commit_file(repo, "a.py", text)
    commit_file(repo, "b.py", text)  # same blob, second path
    git(repo, "mv", "a.py", "c.py")
    git(repo, "commit", "-q", "-m", "rename")
    git(repo, "checkout", "-q", "-b", "side")
    commit_file(repo, "d.py", "nothing here\n")
    commit_file(repo, "e.py", "x = '" + "sk_" + "test_short'\n")  # passes the prefilter, no key
    commit_file(repo, "f.py", "x_test_y = 1\n")  # a keyword, but not where a key could start
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "side")
    git(repo, "tag", "v1")
    rules = load_rules(())
    settings = Settings(rules, compile_matcher(rules.rules))
    r = history.open_repo(repo)
    blobs = history.all_objects(r).blobs
    expected = unique_blobs(repo)
    assert sorted(b.oid for b in blobs) == sorted(expected)
    # two worker processes, one blob per chunk: the most chances to read something twice
    scanned = scan_blobs(settings, r.git_dir, blobs, jobs=2, chunk_bytes=1)
    assert scanned.reads == len(expected) == 4
    assert scanned.full_scans == 2  # the key blob and e.py; d.py and f.py never reach the rules
    assert (
        list(scanned.hits) == [b.oid for b in blobs if b.oid in scanned.hits]
        and len(scanned.hits) == 1
    )
    _code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert doc["scan"]["blobs"] == len(expected)
    assert len(doc["findings"]) == 1 and len(doc["findings"][0]["locations"]) == 3


def test_parallel_and_serial_scans_agree(repo):
    for i in range(6):
        commit_file(
            repo, f"f{i}.py", f"K{i} = '{keys.key('secret', 'test', seed=i)}'\n" + "x\n" * 2000
        )
    one = run("scan", "--history", str(repo), "--format", "json", "--jobs", "1")
    two = run("scan", "--history", str(repo), "--format", "json", "--jobs", "2")
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert a["findings"] == b["findings"] and len(a["findings"]) == 6
    assert a["scan"]["blobs"] == b["scan"]["blobs"] == 6


def test_bare_repository(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    code, doc, _ = scan_json("--history", str(bare), jobs=1)
    assert code == 1 and doc["findings"][0]["present_at_head"] is True
    assert doc["scan"]["target"] == str(bare)


def test_shallow_clone_says_history_is_partial(repo, tmp_path):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n", "old key")
    commit_file(repo, "a.py", "K = None\n", "removed")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True
    )
    code, doc, _ = scan_json("--history", str(shallow), jobs=1)
    assert code == 0 and doc["findings"] == []
    assert any("shallow clone: history is partial" in n for n in doc["scan"]["notes"])


def test_empty_repository_is_a_clear_note(repo):
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 0 and doc["findings"] == [] and doc["scan"]["blobs"] == 0
    assert any("empty repository" in n for n in doc["scan"]["notes"])


def test_detached_head_and_worktree(repo, tmp_path):
    k = keys.key("secret", "test")
    with_key = commit_file(repo, "a.py", f"K = '{k}'\n")
    commit_file(repo, "a.py", "K = None\n")
    git(repo, "checkout", "-q", "--detach", with_key)
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 1 and doc["findings"][0]["present_at_head"] is True
    git(repo, "checkout", "-q", "main")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), with_key)
    code, doc, _ = scan_json("--history", str(tmp_path / "wt"), jobs=1)
    assert code == 1 and doc["findings"][0]["present_at_head"] is True


def test_lfs_pointer_is_noted(repo):
    pointer = (
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 12345\n"
    )
    commit_file(repo, "big.bin", pointer)
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 0 and any("Git LFS pointer" in n for n in doc["scan"]["notes"])


def test_corrupt_loose_object_is_exit_2_with_a_sentence(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n")
    oid = git(repo, "rev-parse", "HEAD:a.py")
    loose = repo / ".git" / "objects" / oid[:2] / oid[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"this is not zlib data at all")
    result = run("scan", "--history", str(repo))
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("leakscan: error: ") and "git fsck" in line and "Traceback" not in line


def test_missing_packfile_is_exit_2_with_a_sentence(repo):
    commit_file(repo, "a.py", "x = 1\n")
    commit_file(repo, "b.py", "y = 2\n")
    git(repo, "repack", "-q", "-a", "-d")
    for pack in (repo / ".git" / "objects" / "pack").glob("*.pack"):
        pack.unlink()
    result = run("scan", "--history", str(repo))
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("leakscan: error: ") and "Traceback" not in line


def test_not_a_repository(tmp_path):
    result = run("scan", "--history", str(tmp_path))
    assert result.exit_code == 2 and "not a git repository" in result.stderr


def test_git_sources_are_mutually_exclusive(repo):
    result = run("scan", "--history", "--staged", str(repo))
    assert result.exit_code == 2 and "choose one" in result.stderr
    result = run("scan", "--unreachable", str(repo))
    assert result.exit_code == 2 and "--unreachable only applies to --history" in result.stderr


def test_oversized_blobs_are_skipped_with_a_note(repo):
    commit_file(repo, "big.py", f"K = '{keys.key('secret', 'live')}'\n" + "x" * 5000)
    code, doc, _ = scan_json("--history", str(repo), "--max-file-size", "1K", jobs=1)
    assert code == 0 and doc["scan"]["blobs"] == 0
    assert any("larger than --max-file-size" in n for n in doc["scan"]["notes"])


def test_blob_ref_sizes_come_from_git(repo):
    commit_file(repo, "a.txt", "abc\n")
    r = history.open_repo(repo)
    blobs = history.all_objects(r).blobs
    assert blobs == [BlobRef(git(repo, "rev-parse", "HEAD:a.txt"), 4)]


def test_history_works_without_a_checkout(repo, tmp_path):
    shutil.rmtree(tmp_path / "repo" / ".git" / "hooks", ignore_errors=True)
    code, _, _ = scan_json("--history", str(make_repo(tmp_path / "other")), jobs=1)
    assert code == 0


def test_progress_line_shows_blobs_bytes_rate_and_eta():
    from leakscan.report.progress import progress_line

    line = progress_line(500, 1000, 50 << 20, 100 << 20, 10.0)
    assert line.startswith("[############............]  50%  500/1000 blobs  50.0 MiB/100.0 MiB")
    assert "5.0 MiB/s" in line and line.endswith("ETA 0:10")
    assert progress_line(0, 10, 0, 100, 0.0).endswith("ETA --:--")


def test_no_progress_bar_when_stderr_is_not_a_terminal(repo):
    commit_file(repo, "a.py", "x = 1\n" * 10)
    result = run("scan", "--history", str(repo))
    assert "\r" not in result.stderr and "ETA" not in result.stderr


def test_submodules_are_skipped_with_a_note(repo, tmp_path):
    inner = make_repo(tmp_path / "inner")
    commit_file(inner, "secret.py", f"K = '{keys.key('secret', 'live')}'\n")
    commit_file(repo, "README.md", "hi\n")
    git(
        repo,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(inner),
        "vendor/inner",
    )
    git(repo, "commit", "-q", "-m", "add submodule")
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 0 and doc["findings"] == []
    assert any("1 submodule(s) at HEAD not scanned" in n for n in doc["scan"]["notes"])


def partial_clone(repo: Path, tmp_path: Path) -> Path:
    """A `--filter=blob:none` clone of `repo`, whose history holds a live key in a deleted file."""
    commit_file(repo, "README.md", "start\n", "start")
    commit_file(repo, "a.py", f"K = '{keys.key('secret', 'live')}'\n", "old key")
    git(repo, "rm", "-q", "a.py")
    commit_file(repo, "NEWS.md", "hi\n", "removed")
    git(repo, "config", "uploadpack.allowFilter", "true")
    partial = tmp_path / "partial"
    subprocess.run(["git", "-c", "protocol.file.allow=always", "clone", "-q", "--filter=blob:none",
                    f"file://{repo}", str(partial)], check=True, capture_output=True)  # fmt: skip
    return partial


def test_partial_clone_missing_blobs_stop_the_scan_and_nothing_is_fetched(repo, tmp_path):
    partial = partial_clone(repo, tmp_path)
    before = git(partial, "count-objects", "-v")
    for args in (("--history",), ("--history", "--no-fetch"), ("--range", "HEAD~2..HEAD")):
        result = run("scan", *args, str(partial), "--jobs", "1")
        assert result.exit_code == 2, args
        assert "1 object(s) of this partial clone were never downloaded" in result.stderr
        assert "--fetch-missing" in result.stderr and "passing" not in result.stderr
    assert git(partial, "count-objects", "-v") == before  # the old blob was not fetched
    code, doc, _ = scan_json(
        "--range", "HEAD~1..HEAD", str(partial), jobs=1
    )  # needs only present ones
    assert (
        code == 0
        and "partial clone: every object the scan reads was present" in doc["scan"]["notes"]
    )


def test_partial_clone_fetch_missing_downloads_once_and_finds_the_key(repo, tmp_path):
    partial = partial_clone(repo, tmp_path)
    code, doc, err = scan_json("--history", "--fetch-missing", str(partial), jobs=1)
    assert code == 1 and [f["rule_id"] for f in doc["findings"]] == ["stripe.secret-key.live"]
    assert "fetched 1 missing object(s) (" in err
    assert "partial clone: 1 missing object(s) fetched from its promisor remote and scanned" in doc[
        "scan"]["notes"]  # fmt: skip
    code, doc, err = scan_json("--history", str(partial), jobs=1)  # now present: no fetch, no stop
    assert code == 1 and "fetched" not in err


def test_fetch_missing_shows_a_progress_bar_on_a_terminal(repo, tmp_path):
    """On a terminal the download shows git's received-object count as leakscan's bar, then the
    line with the count and bytes; nothing of the key."""
    import pty

    partial = partial_clone(repo, tmp_path)
    master, slave = pty.openpty()
    proc = subprocess.run([*LEAKSCAN, "scan", "--history", "--fetch-missing", str(partial),
                           "--format", "json", "-o", str(tmp_path / "r.json")],
                          stdout=subprocess.DEVNULL, stderr=slave, timeout=120, check=False)  # fmt: skip
    os.close(slave)
    shown = read_terminal(master).decode()
    os.close(master)
    assert proc.returncode == 1, shown
    assert "leakscan: fetching missing objects [" in shown and "100%  1/1" in shown
    assert "fetched 1 missing object(s) (" in shown and "sk_live_" not in shown


def test_fetch_missing_and_no_fetch_together_are_a_usage_error(repo):
    result = run("scan", "--history", "--fetch-missing", "--no-fetch", str(repo))
    assert result.exit_code == 2 and "contradict each other" in result.stderr


def test_a_documentation_sample_gone_from_head_is_not_told_to_rotate(repo):
    """Public keys are not leaks: no history-only warning, nothing to rotate, whatever the scan."""
    sample, key = keys.documentation_samples()[0], keys.key("secret", "test")
    commit_file(repo, "example.py", f"stripe.api_key = '{sample}'\nother = '{key}'\n")
    commit_file(repo, "example.py", "stripe.api_key = os.environ['STRIPE_KEY']\n")
    _code, doc, _ = scan_json("--history", str(repo), "--fail-on", "never", jobs=1)
    by_preview = {f["preview"]: f for f in doc["findings"]}
    public = by_preview[sample[:8] + "…" + sample[-4:]]
    leaked = by_preview[key[:8] + "…" + key[-4:]]
    assert not public["present_at_head"] and public["remediation"].startswith("Nothing to rotate")
    assert HISTORY_ONLY_START in leaked["remediation"]


def test_fetch_missing_never_runs_the_repositorys_upload_pack_or_helpers(repo, tmp_path):
    partial = partial_clone(repo, tmp_path)
    marker = tmp_path / "ran"
    hostile = f"sh -c 'touch {marker}; exec git-upload-pack \"$@\"' x"
    git(partial, "config", "remote.origin.uploadpack", hostile)
    git(partial, "config", "credential.helper", f"!touch {marker}")
    code, _doc, err = scan_json("--history", "--fetch-missing", str(partial), jobs=1)
    assert code == 1 and "fetched 1 missing object(s)" in err and not marker.exists()
