"""Issue 19: keys grouped by Stripe account, and each secret's exposure window, on real repositories
built in tmp_path: in JSON, SARIF and text."""

from __future__ import annotations

import json
from pathlib import Path

from leakscan import accounts
from leakscan.exposure import SHIPPED_IN_TAG
from leakscan.fingerprint import secret_sha256
from leakscan.model import Change
from tests import keys
from tests.conftest import git, make_repo, run, scan_json

TAIL = "Ab3dEf6hIj9kLm2"  # 15 characters: the end of an account id


def account_key(kind: str, mode: str = "live", seed: int = 0, tail: str = TAIL) -> str:
    """A current key of the account whose id ends in `tail`: `51` + tail + 82 random characters."""
    return keys.PREFIXES[(kind, mode)] + "51" + tail + keys.body(82, seed=seed)


def commit(repo: Path, files: dict[str, str | None], message: str, day: int) -> str:
    """Write (or delete, None) files and commit them on 2024-01-`day`, author and committer."""
    for name, text in files.items():
        target = repo / name
        if text is None:
            git(repo, "rm", "-q", "--", name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git(repo, "add", "--", name)
    when = f"2024-01-{day:02d}T12:00:00+00:00"
    git(repo, "commit", "-q", "-m", message, env={"GIT_AUTHOR_DATE": when,
                                                  "GIT_COMMITTER_DATE": when})  # fmt: skip
    return git(repo, "rev-parse", "HEAD")


def test_three_keys_of_one_account_are_one_group_and_legacy_keys_stay_alone(tmp_path):
    repo = make_repo(tmp_path / "shop")
    secret, restricted = account_key("secret", seed=1), account_key("restricted", seed=2)
    publishable = account_key("publishable", seed=3)
    legacy = keys.key("secret", "live", n=24, seed=4)
    other = account_key("secret", "test", seed=5, tail="Zz9yXw8vUt7sRq6")
    bundle = f"const pk = '{publishable}';\nconst sk = '{secret}';\n"
    commit(repo, {"web/static/app.js": bundle, "ops/restricted.env": f"RK={restricted}\n",
                  "old.py": f"K = '{legacy}'\n", "tests/fixture.py": f"K = '{other}'\n"},
           "add keys", 1)  # fmt: skip
    code, doc, err = scan_json(str(repo))
    assert code == 1
    for k in (secret, restricted, publishable, legacy, other):
        assert k not in json.dumps(doc) + err
    by_hash = {f["secret_sha256"]: f for f in doc["findings"]}
    grouped, lone = doc["accounts"]
    segment = "51" + TAIL
    assert grouped["sha256"] == secret_sha256(segment) and grouped["preview"] == "…" + TAIL[-4:]
    assert segment not in json.dumps(doc)  # only its hash and last four characters
    members = {m["secret_sha256"] for m in grouped["findings"]}
    assert members == {secret_sha256(k) for k in (secret, restricted, publishable)}
    assert grouped["severity"] == "critical"  # its worst key's
    assert grouped["key_types"] == [
        "live secret key",
        "live restricted key",
        "live publishable key",
    ]
    assert grouped["summary"] == (
        f"account …{TAIL[-4:]}: live secret key, live restricted key and live publishable key "
        "exposed — rotate the secret and restricted keys; check the request logs for both"
    )
    assert grouped["together"] == ["web/static/app.js"]  # the bundle holds pk_ and sk_
    assert lone["findings"] == [{"rule_id": "stripe.secret-key.test",
                                 "secret_sha256": secret_sha256(other)}]  # fmt: skip
    assert by_hash[secret_sha256(legacy)]["account"] is None  # 24 characters: no segment
    assert by_hash[secret_sha256(secret)]["account"]["preview"] == "…" + TAIL[-4:]

    sarif = json.loads(run("scan", str(repo), "--format", "sarif").stdout)
    props = [r["properties"] for r in sarif["runs"][0]["results"]]
    shared = {p["secretSha256"] for p in props if p.get("accountSha256") == grouped["sha256"]}
    assert shared == members

    text = run("scan", str(repo), "--no-color").stdout
    assert "Stripe accounts (from the keys' account segment: evidence, not proof)" in text
    assert f"  CRITICAL  {grouped['summary']}\n" in text
    assert "are together in web/static/app.js: a client-side bundle" in text


def test_a_key_added_tagged_and_removed_has_its_window(tmp_path):
    repo = make_repo(tmp_path / "shop")
    k = keys.key("secret", "live", seed=11)
    commit(repo, {"README.md": "hello\n"}, "start", 1)
    added = commit(repo, {"app/settings.py": f"KEY = '{k}'\n"}, "add key", 3)
    git(repo, "tag", "v2.1.0")
    last = commit(repo, {"app/other.py": "x = 1\n"}, "more work", 10)
    git(repo, "tag", "v2.4.3")
    removed = commit(repo, {"app/settings.py": "KEY = os.environ['KEY']\n"}, "remove key", 13)
    git(repo, "tag", "v3.0.0")
    commit(repo, {"app/other.py": "x = 2\n"}, "later", 20)
    code, doc, _ = scan_json("--history", str(repo))
    (f,) = doc["findings"]
    assert code == 1 and not f["present_at_head"]
    e = f["exposure"]
    assert (e["introduced"], e["last_present"], e["removed"]) == (added, last, removed)
    assert e["introduced_date"] == "2024-01-03T12:00:00+00:00" and e["days"] == 10
    assert e["at_head"] is False and e["shipped"] is True
    assert e["refs"] == [
        "refs/heads/main",
        "refs/tags/v2.1.0",
        "refs/tags/v2.4.3",
        "refs/tags/v3.0.0",
    ]
    assert e["default_branch"] == "refs/heads/main"
    summary = ("exposed 10 days from 2024-01-03, in tags v2.1.0…v3.0.0 (3), on main, "
               f"removed in {removed[:12]} (2024-01-13)")  # fmt: skip
    assert e["summary"] == summary
    assert f["remediation"].startswith(SHIPPED_IN_TAG)  # what the window implies comes first
    text = run("scan", "--history", str(repo), "--no-color").stdout
    assert f"  {summary}\n" in text


def test_a_key_still_at_head_and_one_on_a_side_branch(tmp_path):
    repo = make_repo(tmp_path / "shop")
    at_head, side = keys.key("secret", "live", seed=21), keys.key("restricted", "live", seed=22)
    added = commit(repo, {"a.py": f"K = '{at_head}'\n"}, "add", 1)
    commit(repo, {"a.py": f"# moved\nK = '{at_head}'\n"}, "edit around it", 2)
    head = commit(repo, {"b.py": "x = 1\n"}, "more", 5)
    git(repo, "checkout", "-q", "-b", "feature")
    branched = commit(repo, {"side.py": f"R = '{side}'\n"}, "side", 6)
    git(repo, "checkout", "-q", "main")
    _, doc, _ = scan_json("--history", str(repo))
    by_hash = {f["secret_sha256"]: f["exposure"] for f in doc["findings"]}
    e = by_hash[secret_sha256(at_head)]
    assert (e["introduced"], e["removed"], e["last_present"]) == (added, None, head)
    assert (
        e["at_head"] and e["days"] == 4 and e["summary"].endswith("on feature, main, still at HEAD")
    )
    s = by_hash[secret_sha256(side)]
    assert (s["introduced"], s["removed"], s["at_head"]) == (branched, None, False)
    assert s["refs"] == ["refs/heads/feature"] and s["shipped"] is False
    assert s["summary"].endswith("never removed from the branch that has it")


def test_a_tree_scan_and_a_range_scan_have_no_window(tmp_path):
    repo = make_repo(tmp_path / "shop")
    base = commit(repo, {"README.md": "hi\n"}, "start", 1)
    commit(repo, {"a.py": f"K = '{keys.key('secret', 'live', seed=31)}'\n"}, "add", 2)
    for args in ((str(repo),), ("--range", f"{base}..HEAD", str(repo))):
        _, doc, _ = scan_json(*args)
        assert [f["exposure"] for f in doc["findings"]] == [None]


def test_the_window_follows_renames_and_a_key_that_comes_back():
    """The pure reading of the walk's changes: a rename keeps the key held; a key removed and added
    again is removed only by the last removal."""
    from leakscan.exposure import window

    def c(commit: str, day: int, path: str, oid: str, added: bool, parent: str = "") -> Change:
        return Change(commit, parent or None, f"2024-02-{day:02d}T00:00:00+00:00", path, oid, added)

    moved = [c("c1", 1, "a", "x", True), c("c2", 2, "a", "x", False, "c1"),
             c("c2", 2, "b", "x", True, "c1")]  # fmt: skip
    assert window(moved, True, "c9", "2024-02-09T00:00:00+00:00").removed is None
    back = [*moved, c("c3", 3, "b", "x", False, "c2"), c("c4", 5, "c", "y", True, "c3"),
            c("c5", 8, "c", "y", False, "c4")]  # fmt: skip
    e = window(back, False, "c9", "2024-02-09T00:00:00+00:00")
    assert e is not None and (e.removed, e.last_present, e.days) == ("c5", "c4", 7)


def test_account_of_only_current_account_keys():
    k = account_key("secret")
    assert accounts.account_of("secret", k) == accounts.account_of(
        "publishable", account_key("publishable", seed=9)
    )
    assert accounts.account_of("organization", k) is None
    assert accounts.account_of("secret", keys.key("secret", n=24)) is None
    assert accounts.account_of("webhook_secret", keys.webhook()) is None
