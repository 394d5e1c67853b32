"""History and range scans find the encoded keys a tree scan finds (base64, percent, escapes), on real
repositories built in tmp_path; blobs with no encoded keyword still never reach the decoders."""

from __future__ import annotations

import base64
import json

import pytest

from leakscan.match.engine import compile_matcher
from leakscan.match.needles import ENCODED_LITERALS, has_encoded_keyword
from leakscan.scan.blobs import scan_blobs
from leakscan.settings import Settings, load_rules
from leakscan.sources import history
from tests import keys
from tests.conftest import commit_file, git, scan_json


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def k8s_secret(k: str) -> str:
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: stripe\ndata:\n  key: {b64(k)}\n"


def escaped(k: str, escape: str) -> str:
    return k.replace("_", escape)


# (file name, content holding key k, the encoding a tree scan reports)
FORMS = {
    "base64": ("secret.yaml", k8s_secret, "base64"),
    "base64-of-base64": (
        "values.yaml",
        lambda k: f"blob: {b64(b64('KEY=' + k))}\n",
        "base64+base64",
    ),
    "percent": ("hook.txt", lambda k: f"https://example.com/h?t={escaped(k, '%5F')}\n", "percent"),
    "unicode": (
        "conf.json",
        lambda k: '{"key": "' + escaped(k, "\\u005f") + '"}\n',
        "unicode-escape",
    ),
    "hex": ("conf.py", lambda k: "K = '" + escaped(k, "\\x5f") + "'\n", "hex-escape"),
    "entity": ("page.html", lambda k: f"<p>{escaped(k, '&#95;')}</p>\n", "html-entity"),
    "hex-entity": ("page2.html", lambda k: f"<p>{escaped(k, '&#x5F;')}</p>\n", "html-entity"),
}


def summary(doc: dict) -> list[tuple[str, str, str, str]]:
    """(rule, severity, path, encoding) of every location, the report's own order."""
    return [(f["rule_id"], f["severity"], loc["path"], loc["encoding"])
            for f in doc["findings"] for loc in f["locations"]]  # fmt: skip


def reproduction(repo) -> tuple[str, list[str]]:
    """Issue 18: three encoded keys committed, then deleted. (first commit, the keys)"""
    ks = [keys.key("secret", "live", seed=1), keys.key("restricted", "live", seed=2),
          keys.key("secret", "live", seed=3)]  # fmt: skip
    commit_file(repo, "README.md", "hello\n", "start")
    (repo / "k8s").mkdir()
    (repo / "k8s/secret.yaml").write_text(k8s_secret(ks[0]))
    (repo / "hook.txt").write_text(f"https://example.com/h?t={escaped(ks[1], '%5F')}\n")
    (repo / "conf.json").write_text('{"key": "' + escaped(ks[2], "\\u005f") + '"}\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "add encoded keys")
    first = git(repo, "rev-parse", "HEAD")
    return first, ks


def test_reproduction_history_finds_what_the_tree_scan_found(repo):
    first, ks = reproduction(repo)
    code, tree, _ = scan_json(str(repo))
    assert code == 1 and len(tree["findings"]) == 3
    git(repo, "rm", "-q", "k8s/secret.yaml", "hook.txt", "conf.json")
    git(repo, "commit", "-q", "-m", "remove keys")
    for args in (("--history",), ("--range", f"{first}^..HEAD")):
        code, doc, err = scan_json(*args, str(repo), jobs=1)
        assert code == 1 and not any(k in json.dumps(doc) + err for k in ks)
        assert summary(doc) == summary(tree)
        assert {loc["commit"] for f in doc["findings"] for loc in f["locations"]} == {first}
        assert not any(f["present_at_head"] for f in doc["findings"])
        assert {loc["encoding"] for f in doc["findings"] for loc in f["locations"]} == {
            "base64", "percent", "unicode-escape"}  # fmt: skip


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("kept", [True, False], ids=["at-head", "history-only"])
def test_each_encoding_is_found_in_history_and_range(repo, form, kept):
    name, make, encoding = FORMS[form]
    k = keys.key("secret", "live", seed=7)
    base = commit_file(repo, "README.md", "hello\n", "start")
    commit_file(repo, name, make(k), "add")
    code, tree, _ = scan_json(str(repo))
    assert code == 1 and [loc["encoding"] for loc in tree["findings"][0]["locations"]] == [encoding]
    if not kept:
        git(repo, "rm", "-q", name)
        git(repo, "commit", "-q", "-m", "remove")
    for args in (("--history",), ("--range", f"{base}..HEAD")):
        code, doc, _ = scan_json(*args, str(repo), jobs=1)
        assert code == 1 and summary(doc) == summary(tree), args
        assert doc["findings"][0]["present_at_head"] is kept


def test_webhook_secret_with_escaped_underscore(repo):
    k = keys.webhook(seed=4)
    commit_file(repo, "a.json", '{"s": "' + escaped(k, "\\u005F") + '"}\n', "add")
    commit_file(repo, "a.json", "{}\n", "remove")
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 1 and summary(doc)[0][2:] == ("a.json", "unicode-escape")


def test_range_key_encoded_in_an_unchanged_file_at_head_is_at_head(repo):
    """A range scan does not read HEAD's unchanged files; one holding the key encoded still puts it
    at HEAD, though the raw key is in no file."""
    k = keys.key("secret", "live", seed=5)
    commit_file(repo, "k8s/old.yaml", k8s_secret(k), "old copy")
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "k8s/new.yaml", "# copy\n" + k8s_secret(k), "new copy")  # another blob
    commit_file(repo, "k8s/new.yaml", "data: {}\n", "remove new copy")
    code, doc, _ = scan_json("--range", f"{base}..HEAD", str(repo), jobs=1)
    (f,) = doc["findings"]
    assert code == 1 and f["present_at_head"] is True
    assert [loc["path"] for loc in f["locations"]] == ["k8s/new.yaml"]


def test_blobs_without_an_encoded_keyword_never_reach_the_decoders(repo):
    k = keys.key("secret", "live", seed=6)
    commit_file(repo, "a.yaml", k8s_secret(k), "key")
    commit_file(repo, "b.py", "H = '5f5F5f' * 9  # live test %5F alone\nURL = 'a%5Fb'\n")
    commit_file(repo, "c.txt", "x" * 30 + b64("no keyword in here at all, just a long run") + "\n")
    commit_file(repo, "d.html", "<p>snake&#95;case, live&#32;test</p>\n")
    commit_file(repo, "e.yaml", k8s_secret("live test, but no key prefix " * 3))
    rules = load_rules(())
    settings = Settings(rules, compile_matcher(rules.rules))
    r = history.open_repo(repo)
    blobs = history.all_objects(r).blobs
    scanned = scan_blobs(settings, r.git_dir, blobs, jobs=1)
    assert scanned.reads == 5 and scanned.full_scans == 1 and len(scanned.hits) == 1


def test_every_literal_is_found_and_common_text_has_none():
    assert len(ENCODED_LITERALS) == len(set(ENCODED_LITERALS)) == 64
    assert all(has_encoded_keyword(b"x " + lit + b" y") for lit in ENCODED_LITERALS)
    common = b"def test_live_reload(): return f'%5F{x}' + '\\x5f' + 'live' + 'test' + '&#95;'\n"
    assert not has_encoded_keyword(common)
