"""Range scans (push, new branch, force-push, BASE == HEAD) and staged scans, on real repositories."""

from __future__ import annotations

import json
import subprocess
import sys

from tests import keys
from tests.conftest import commit_file, git, run, scan_json


def test_range_of_a_push_scans_only_what_it_added(repo):
    old, new = keys.key("secret", "live", seed=1), keys.key("secret", "live", seed=2)
    commit_file(repo, "old.py", f"K = '{old}'\n", "already pushed")
    base = git(repo, "rev-parse", "HEAD")
    added = commit_file(repo, "new.py", f"K = '{new}'\n", "new work")
    commit_file(repo, "other.py", "x = 1\n", "more work")
    code, doc, _ = scan_json("--range", f"{base}..HEAD", str(repo))
    assert code == 1 and doc["scan"]["mode"] == "range" and doc["scan"]["blobs"] == 2
    (f,) = doc["findings"]
    assert (f["locations"][0]["path"], f["locations"][0]["commit"]) == ("new.py", added)
    assert f["present_at_head"] is True
    assert any("scanned what its 2 commit(s) added" in n for n in doc["scan"]["notes"])
    code, doc2, _ = scan_json("--since", base, str(repo))
    assert doc2["findings"] == doc["findings"]


def test_range_key_added_and_removed_inside_the_range(repo):
    k = keys.key("secret", "live")
    base = commit_file(repo, "README.md", "hi\n", "start")
    commit_file(repo, "a.py", f"K = '{k}'\n", "add")
    commit_file(repo, "a.py", "K = None\n", "remove")
    code, doc, _ = scan_json("--range", f"{base}..HEAD", str(repo))
    (f,) = doc["findings"]
    assert code == 1 and f["present_at_head"] is False


def test_range_key_still_in_an_unchanged_file_is_present_at_head(repo):
    k = keys.key("secret", "test")
    base = commit_file(repo, "keep.py", f"K = '{k}'\n", "old copy")
    commit_file(repo, "a.py", f"# copy\nK = '{k}'\n", "add a second copy")
    commit_file(repo, "a.py", "K = None\n", "remove it again")
    _code, doc, _ = scan_json("--range", f"{base}..HEAD", str(repo))
    (f,) = doc["findings"]
    assert f["locations"][0]["path"] == "a.py" and f["present_at_head"] is True


def test_range_new_branch_with_all_zero_base(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "a.py", f"K = '{k}'\n", "first")
    code, doc, _ = scan_json("--range", f"{'0' * 40}..HEAD", str(repo))
    assert code == 1 and len(doc["findings"]) == 1
    assert any(n.startswith("new branch") and "all 1 commit(s)" in n for n in doc["scan"]["notes"])


def test_range_new_branch_skips_what_remotes_have(repo, tmp_path):
    old, new = keys.key("secret", "live", seed=3), keys.key("secret", "live", seed=4)
    commit_file(repo, "old.py", f"K = '{old}'\n", "on the remote")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "checkout", "-q", "-b", "feature")
    added = commit_file(clone, "new.py", f"K = '{new}'\n", "feature work")
    _code, doc, _ = scan_json("--range", f"{'0' * 40}..feature", str(clone))
    (f,) = doc["findings"]
    assert f["locations"][0]["commit"] == added
    assert any("1 commit(s) not on any remote-tracking branch" in n for n in doc["scan"]["notes"])


def test_range_force_push_scans_what_head_has_that_base_does_not(repo):
    k = keys.key("secret", "live")
    start = commit_file(repo, "README.md", "hi\n", "start")
    pushed = commit_file(repo, "a.py", "x = 1\n", "pushed before")
    git(repo, "reset", "-q", "--hard", start)
    rewritten = commit_file(repo, "b.py", f"K = '{k}'\n", "rewritten")
    code, doc, _ = scan_json("--range", f"{pushed}..{rewritten}", str(repo))
    (f,) = doc["findings"]
    assert code == 1 and f["locations"][0]["commit"] == rewritten
    (note,) = doc["scan"]["notes"]
    assert "is not an ancestor" in note and "force-push" in note


def test_range_base_missing_from_the_clone_is_said(repo):
    commit_file(repo, "a.py", f"K = '{keys.key('secret', 'live')}'\n")
    code, doc, _ = scan_json("--range", f"{'1' * 40}..HEAD", str(repo))
    assert code == 1
    assert any("is not in this repository" in n for n in doc["scan"]["notes"])


def test_range_base_equals_head_scans_nothing_and_says_so(repo):
    commit_file(repo, "a.py", f"K = '{keys.key('secret', 'live')}'\n")
    code, doc, _ = scan_json("--range", "HEAD..HEAD", str(repo))
    assert code == 0 and doc["findings"] == [] and doc["scan"]["blobs"] == 0
    assert doc["scan"]["notes"] == [
        f"BASE and HEAD are the same commit ({git(repo, 'rev-parse', 'HEAD')[:12]}): nothing to scan"
    ]
    result = run("scan", "--range", "HEAD..HEAD", str(repo), "-v")
    assert "nothing to scan" in result.stderr and result.exit_code == 0


def test_range_usage_errors(repo):
    commit_file(repo, "a.py", "x = 1\n")
    result = run("scan", "--range", "HEAD", str(repo))
    assert result.exit_code == 2 and "is not BASE..HEAD" in result.stderr
    result = run("scan", "--range", "HEAD..nope", str(repo))
    assert result.exit_code == 2 and "'nope' does not name a readable commit" in result.stderr
    result = run("scan", "--since", "origin/typo", str(repo))
    assert (
        result.exit_code == 2 and "'origin/typo' does not name a readable commit" in result.stderr
    )


def test_staged_scan_sees_the_staged_version_not_the_working_tree(repo):
    k = keys.key("secret", "live")
    commit_file(repo, "README.md", "hi\n", "start")
    (repo / "app.py").write_text(f"import os\n\nKEY = '{k}'\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text("import os\nKEY = os.environ['KEY']\n")
    code, doc, err = scan_json("--staged", str(repo))
    assert code == 1 and doc["scan"]["mode"] == "staged" and k not in json.dumps(doc) + err
    (f,) = doc["findings"]
    assert (f["locations"][0]["path"], f["locations"][0]["line"]) == ("app.py", 3)
    # and the other way round: a key only in the working tree is not staged
    git(repo, "add", "app.py")
    (repo / "app.py").write_text(f"KEY = '{k}'\n")
    code, doc, _ = scan_json("--staged", str(repo))
    assert code == 0 and doc["findings"] == [] and doc["scan"]["files"] == 1


def test_staged_named_paths_and_unstaged_files(repo):
    k = keys.key("secret", "test")
    commit_file(repo, "README.md", "hi\n", "start")
    (repo / "a.py").write_text(f"K = '{k}'\n")
    (repo / "b.py").write_text(f"K = '{k}'\n")
    git(repo, "add", "a.py", "b.py")
    code, doc, _ = scan_json("--staged", str(repo), str(repo / "b.py"))
    (f,) = doc["findings"]
    assert [loc["path"] for loc in f["locations"]] == ["b.py"]
    code, doc, _ = scan_json("--staged", str(repo), str(repo / "README.md"))
    assert code == 0 and doc["scan"]["files"] == 1  # a named, unchanged file: its index content


def test_staged_in_a_repository_without_commits(repo):
    (repo / "a.py").write_text(f"K = '{keys.key('secret', 'live')}'\n")
    git(repo, "add", "a.py")
    code, doc, _ = scan_json("--staged", str(repo))
    assert code == 1 and doc["findings"][0]["locations"][0]["path"] == "a.py"


def test_staged_with_nothing_staged(repo):
    commit_file(repo, "a.py", f"K = '{keys.key('secret', 'live')}'\n")
    code, doc, _ = scan_json("--staged", str(repo))
    assert code == 0 and doc["scan"]["files"] == 0


def test_staged_in_a_bare_repository_is_a_sentence(repo, tmp_path):
    commit_file(repo, "a.py", "x = 1\n")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    result = run("scan", "--staged", str(bare))
    assert result.exit_code == 2 and "--staged" in result.stderr


def test_staged_path_does_not_import_multiprocessing(repo):
    commit_file(repo, "README.md", "hi\n")
    code = (
        "import sys\nfrom leakscan.cli.app import main\nsys.argv = ['leakscan', 'scan', '--staged', "
        f"{str(repo)!r}]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'multiprocessing' not in sys.modules, 'heavy import'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_range_blobs_are_the_same_in_pack_order(repo):
    from leakscan.sources import history

    base = commit_file(repo, "a.py", "one\n")
    commit_file(repo, "b.py", "two\n")
    commit_file(repo, "c.py", "three\n")
    git(repo, "tag", "-a", "v1", "-m", "v1")  # a tag object among the listed ids
    git(repo, "repack", "-q", "-a", "-d")
    r = history.open_repo(repo)
    revs = ("HEAD", "--not", base)
    small = history.range_blobs(r, revs)
    packed = history.range_blobs(r, revs, pack_order_above=0)
    assert sorted(small, key=lambda b: b.oid) == sorted(packed, key=lambda b: b.oid)
    assert {b.oid for b in small} == {git(repo, "rev-parse", f"HEAD:{n}") for n in ("b.py", "c.py")}


def test_range_in_a_shallow_clone_whose_base_is_cut_off_exits_2(repo, tmp_path):
    """A shallow clone that lacks BASE cannot tell what the range added: exit 2 with the fix,
    never `0 commit(s)` scanned and a pass."""
    commit_file(repo, "a.py", "a = 1\n")
    base = commit_file(repo, "b.py", "b = 1\n")
    commit_file(repo, "c.py", f"K = '{keys.key('secret', 'live')}'\n")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
                   check=True, capture_output=True)  # fmt: skip
    result = run("scan", "--range", f"{base}..HEAD", str(shallow))
    assert result.exit_code == 2
    assert result.stderr == (
        f"leakscan: error: --range: base {base} is not in this shallow clone, so what the range "
        "added cannot be told apart; fetch the history (`git fetch --unshallow`, or "
        "`fetch-depth: 0` on actions/checkout) and scan again.\n"
    )
