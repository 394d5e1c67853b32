"""Issue 23, problem 9: a nightly `scan-many --state` run reports the leaks still open from earlier runs
(status `open`) beside the new ones (`new`), and says which were fixed since the last run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests import keys
from tests.conftest import run, scan_json, sha256
from tests.fleet import fast_repo

KEY_A = keys.key("secret", "live", seed=901)  # alpha, at HEAD; removed before the second run
KEY_B = keys.key("restricted", "live", seed=902)  # beta, at HEAD; its file renamed, still there
KEY_H = keys.key("secret", "test", seed=903)  # alpha, in the history only


def _fleet(top: Path) -> None:
    fast_repo(top / "alpha", [{"a.py": f"KEY = '{KEY_A}'\n", "old.py": f"T = '{KEY_H}'\n"},
                              {"old.py": None}])  # fmt: skip
    fast_repo(top / "beta", [{"conf/b.env": f"B={KEY_B}\n"}])


def _nightly(top: Path, state: Path) -> tuple[int, dict, str]:
    return scan_json(str(top), "--state", str(state), "-j", "1", command="scan-many")


def _by_key(doc: dict) -> dict[str, dict]:
    return {f["secret_sha256"]: f for f in doc["findings"]}


def test_open_leaks_are_carried_forward_and_fixed_ones_are_named(tmp_path):
    top, state = tmp_path / "org", tmp_path / "state.json"
    _fleet(top)
    code, first, _ = _nightly(top, state)
    assert code == 1
    assert {k: f["status"] for k, f in _by_key(first).items()} == {
        sha256(KEY_A): "new", sha256(KEY_B): "new", sha256(KEY_H): "new"}  # fmt: skip
    remembered = json.loads(state.read_text())["open"]
    assert sorted(f["secret_sha256"] for f in remembered) == sorted([sha256(KEY_A), sha256(KEY_B)])

    fast_repo(top / "alpha", [{"a.py": "import os\nKEY = os.environ['KEY']\n"}], start=10)
    fast_repo(top / "beta", [{"conf/b.env": None, "conf/renamed.env": f"B={KEY_B}\n"}], start=10)
    code, second, err = _nightly(top, state)
    assert code == 1, err  # the restricted live key is still at HEAD: the run still fails
    assert (
        second["scan"]["mode"] == "range" and second["scan"]["blobs"] == 1
    )  # only a.py's new blob
    (b,) = second["findings"]
    assert (b["secret_sha256"], b["status"], b["present_at_head"]) == (sha256(KEY_B), "open", True)
    assert b["locations"][0]["path"] == "conf/b.env" and b["locations"][0]["repository"] == "beta"
    (fixed,) = second["scan"]["fixed"]
    assert (fixed["secret_sha256"], fixed["repositories"]) == (sha256(KEY_A), ["alpha"])
    assert "1 leak(s) open after the last run are no longer at HEAD:" in err
    assert f"fixed: {KEY_A[:8]}…{KEY_A[-4:]} (stripe.secret-key.live) in alpha" in err
    assert [f["secret_sha256"] for f in json.loads(state.read_text())["open"]] == [sha256(KEY_B)]

    code, third, _ = _nightly(top, state)  # nothing changed: still open, nothing newly fixed
    assert (code, [f["status"] for f in third["findings"]], third["scan"]["fixed"]) == (
        1,
        ["open"],
        [],
    )
    text = state.read_text()
    assert not [k for k in (KEY_A, KEY_B, KEY_H) if k in text]
    shown = run("scan-many", str(top), "--state", str(state), "-j", "1", "--no-color")
    assert shown.exit_code == 1 and "present at HEAD · still open (reported by an earlier run)" in (
        shown.stdout
    )


def test_a_repository_that_fails_keeps_its_open_leaks_in_the_report(tmp_path):
    top, state = tmp_path / "org", tmp_path / "state.json"
    _fleet(top)
    assert _nightly(top, state)[0] == 1
    shutil.rmtree(top / "beta" / ".git" / "objects")  # beta cannot be read tonight
    code, doc, err = _nightly(top, state)
    assert code == 2 and "1 of 2 repositories could not be scanned" in err
    assert {k: f["status"] for k, f in _by_key(doc).items()} == {
        sha256(KEY_A): "open", sha256(KEY_B): "open"}  # fmt: skip
    assert doc["scan"]["fixed"] == []
    assert sha256(KEY_B) in [f["secret_sha256"] for f in json.loads(state.read_text())["open"]]


def test_a_key_allowed_since_the_last_run_is_shown_suppressed(tmp_path):
    top, state = tmp_path / "org", tmp_path / "state.json"
    _fleet(top)
    assert _nightly(top, state)[0] == 1
    (top / ".leakscan.yaml").write_text(f"allow-secrets: [{sha256(KEY_A)}, {sha256(KEY_B)}]\n")
    code, doc, _ = _nightly(top, state)
    assert code == 0
    assert {f["status"]: f["suppressed"]["kind"] for f in doc["findings"]} == {"open": "config"}
