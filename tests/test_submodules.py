"""Submodules: a tree scan enters checked-out ones; a history scan lists the ones it did not read;
every skip is named in the summary line, and --strict makes any skip exit 2."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests import keys
from tests.conftest import commit_file, git, make_repo, plant, run, scan_json


def _superproject(tmp_path: Path) -> Path:
    """A repository with a checked-out submodule `vendor/inner` whose file holds a live key."""
    inner = make_repo(tmp_path / "inner")
    commit_file(inner, "secret.py", f"K = '{keys.key('secret', 'live')}'\n")
    sup = make_repo(tmp_path / "sup")
    commit_file(sup, "README.md", "hi\n")
    url = (tmp_path / "inner").as_uri()
    git(sup, "-c", "protocol.file.allow=always", "submodule", "add", "-q", url, "vendor/inner")
    git(sup, "commit", "-q", "-m", "add submodule")
    return sup


def test_tree_scan_enters_a_checked_out_submodule(tmp_path, monkeypatch):
    sup = _superproject(tmp_path)
    plant(sup, "vendor/inner/new.py", f"N = '{keys.key('secret', 'live', seed=3)}'\n")
    plant(sup, "vendor/inner/ignored.log", f"I = '{keys.key('secret', 'live', seed=4)}'\n")
    plant(sup, "vendor/inner/.gitignore", "*.log\n")
    monkeypatch.chdir(sup)
    code, doc, _ = scan_json(".", jobs=1)
    paths = sorted(loc["path"] for f in doc["findings"] for loc in f["locations"])
    assert code == 1 and paths == ["vendor/inner/new.py", "vendor/inner/secret.py"]
    assert doc["scan"]["skipped"] == []


def test_uninitialised_submodule_is_skipped_as_not_checked_out(tmp_path, monkeypatch):
    sup = _superproject(tmp_path)
    git(sup, "submodule", "deinit", "-q", "-f", "vendor/inner")
    monkeypatch.chdir(sup)
    result = run("scan", ".")
    assert result.exit_code == 0
    assert "1 skipped (1 submodule not checked out)" in result.stderr
    code, doc, _ = scan_json(".", "--strict", jobs=1)
    assert code == 2
    assert [(s["path"], s["reason"]) for s in doc["scan"]["skipped"]] == [
        ("vendor/inner", "submodule not checked out")
    ]


def test_history_scan_lists_each_submodule_as_not_scanned(tmp_path):
    sup = _superproject(tmp_path)
    commit_file(tmp_path / "inner", "more.py", "x = 1\n")
    git(sup / "vendor" / "inner", "pull", "-q", "origin", "main",
        env={"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.file.allow",
             "GIT_CONFIG_VALUE_0": "always"})  # fmt: skip
    git(sup, "commit", "-q", "-am", "bump")
    head = git(sup / "vendor" / "inner", "rev-parse", "HEAD").strip()
    code, doc, _ = scan_json("--history", str(sup), jobs=1)
    assert code == 0 and doc["findings"] == []
    [skip] = doc["scan"]["skipped"]
    assert skip["path"] == "vendor/inner"
    assert (
        skip["reason"] == f"submodule not scanned (commit {head}, and 1 other recorded commit(s))"
    )
    result = run("scan", "--history", str(sup))
    assert "1 skipped (1 submodule not scanned)" in result.stderr and result.exit_code == 0


def test_every_kind_of_skip_is_named_in_the_summary_line(tmp_path):
    plant(tmp_path, "big.txt", "x" * 2048)
    plant(tmp_path, "ok.txt", "y\n")
    os.symlink(tmp_path / "ok.txt", tmp_path / "link.txt")
    result = run("scan", "--max-file-size", "1KiB", str(tmp_path))
    assert result.exit_code == 0
    assert "; 2 skipped (1 symlink, 1 too large) — passing" in result.stderr
    assert "see --verbose" not in result.stderr.splitlines()[-1]


def test_strict_turns_a_skip_into_exit_two(tmp_path):
    plant(tmp_path, "big.txt", "x" * 2048)
    assert run("scan", "--max-file-size", "1KiB", str(tmp_path)).exit_code == 0
    result = run("scan", "--strict", "--max-file-size", "1KiB", str(tmp_path))
    assert result.exit_code == 2
    assert "--strict: 1 skipped (1 too large)" in result.stderr
    assert run("scan", "--strict", "--fail-on", "info", "--max-file-size", "1KiB",
               str(tmp_path)).exit_code == 2  # fmt: skip
    plant(tmp_path, "big.txt", "x")
    assert run("scan", "--strict", "--max-file-size", "1KiB", str(tmp_path)).exit_code == 0


def test_recurse_submodules_scans_the_history_of_a_local_submodule(tmp_path):
    """--recurse-submodules: the submodule's history (a key added and removed in it, so not at any
    checkout) is found under the submodule's path; without the flag it is a skip."""
    sup = _superproject(tmp_path)
    inner = sup / "vendor" / "inner"
    gone = keys.key("secret", "live", seed=7)
    commit_file(inner, "old.py", f"O = '{gone}'\n")
    git(inner, "rm", "-q", "old.py")
    git(inner, "commit", "-q", "-m", "remove")
    git(sup, "commit", "-q", "-am", "bump")
    code, doc, _ = scan_json("--history", str(sup), jobs=1)
    assert code == 0 and doc["findings"] == []
    code, doc, err = scan_json("--history", "--recurse-submodules", str(sup), jobs=1)
    assert code == 1, err
    paths = {loc["path"] for f in doc["findings"] for loc in f["locations"]}
    assert paths == {"vendor/inner/secret.py", "vendor/inner/old.py"}
    assert doc["scan"]["skipped"] == []
    assert any("scanned the history of 1 submodule(s)" in n for n in doc["scan"]["notes"])


def test_recurse_submodules_lists_a_submodule_that_is_not_here(tmp_path):
    sup = _superproject(tmp_path)
    git(sup, "submodule", "deinit", "-q", "-f", "vendor/inner")
    shutil.rmtree(sup / ".git" / "modules")
    code, doc, _ = scan_json("--history", "--recurse-submodules", "--strict", str(sup), jobs=1)
    assert code == 2
    [skip] = doc["scan"]["skipped"]
    assert skip["path"] == "vendor/inner" and skip["reason"].startswith("submodule not scanned")


def test_recurse_submodules_says_when_recorded_commits_are_missing(tmp_path):
    """The superproject records a commit the local submodule repository does not have (pushed by
    someone else, never fetched): what is here is scanned, the gap is a skip."""
    sup = _superproject(tmp_path)
    commit_file(tmp_path / "inner", "later.py", f"L = '{keys.key('secret', 'live', seed=8)}'\n")
    later = git(tmp_path / "inner", "rev-parse", "HEAD").strip()
    git(sup, "update-index", "--cacheinfo", f"160000,{later},vendor/inner")
    git(sup, "commit", "-q", "-m", "record a commit this clone never fetched")
    code, doc, _ = scan_json("--history", "--recurse-submodules", str(sup), jobs=1)
    assert code == 1
    assert {loc["path"] for f in doc["findings"] for loc in f["locations"]} == {
        "vendor/inner/secret.py"
    }
    [skip] = doc["scan"]["skipped"]
    assert skip["reason"].startswith("submodule partly scanned: 1 recorded commit(s)")


def test_recurse_submodules_is_for_history_scans(tmp_path):
    result = run("scan", "--recurse-submodules", str(tmp_path))
    assert result.exit_code == 2
    assert "--recurse-submodules only applies to --history." in result.stderr
