"""Speed work must never change results: the fast path against a plain reference scan.

The reference reads every file with `open().read()` and runs every rule's regex (the `regex` module, as a
user rule would) over the whole content: no keyword prefilter, no windows, no gate, no `re`, no workers.
The fast path is what `leakscan scan` runs: prefilter, windows, gates, dense passes, forked workers.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from leakscan.match.engine import compile_matcher, find_matches
from leakscan.match.text import utf16_text
from leakscan.scan import tree as parallel
from leakscan.scan.content import scan_items
from leakscan.settings import Settings
from leakscan.settings.builtin import parse_builtin
from leakscan.sources import worktree
from tests import keys
from tests.conftest import commit_file, git, make_repo, run

RULES = parse_builtin()  # with the rules' examples
SETTINGS = Settings(RULES, compile_matcher(RULES.rules))
KINDS = list(keys.PREFIXES)
NOISE = [
    "def _test_case(self):", "my_test_value = 1", "LIVE_MODE = is_live_()", "task_live_x", "sk_live_short",
    "sk_prod_" + keys.body(30), "pk_test_" + keys.body(40) + "-x", "whsec_" + keys.body(20), "x = 'ok'",
]  # fmt: skip


def _line(rnd: random.Random, i: int) -> str:
    roll = rnd.random()
    if roll < 0.04:
        kind = rnd.choice(KINDS)
        k = keys.key(*kind, n=rnd.choice([24, 32, 99, 224]), seed=rnd.randrange(1 << 30))
        return rnd.choice([f"KEY_{i} = '{k}'", f'{{"k": "\\n{k}"}}', f"url?a=%22{k}&b=1", f"  {k}"])
    if roll < 0.05:
        return f"hook = '{keys.webhook(hex64=rnd.random() < 0.5, seed=rnd.randrange(1 << 30))}'"
    return rnd.choice(NOISE) if roll < 0.5 else f"value_{i} = {rnd.random()}"


def _fixtures(rnd: random.Random, count: int) -> list[str]:
    """Keys and near-keys packed together, as in a test suite's fixture file."""
    out = []
    for j in range(count):
        kind = rnd.choice([("secret", "test"), ("restricted", "test"), ("publishable", "test")])
        k = keys.key(*kind, n=rnd.choice([12, 24, 30, 99, 248]), seed=rnd.randrange(1 << 30))
        out.append(rnd.choice([f"K{j} = '{k}'", f"K{j} = 'a{k}'", f"K{j} = '{k}_x'", f"{k}{k}",
                               f"url?key=%20{k}&x", f"K{j} = '{k}...'"]))  # fmt: skip
    return out


def _generate(root: Path, files: int, seed: int) -> None:
    rnd = random.Random(seed)
    for n in range(files):
        sub = root / f"pkg{n % 7}" / f"mod{n % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        lines = [_line(rnd, i) for i in range(rnd.randrange(1, 60))]
        if n % 97 == 0:  # dense: thousands of keyword hits, matched in one pass over the file
            lines += ["call_test_(x)"] * 5000 + [keys.key("secret", "test", seed=n)]
        if n % 101 == 0:  # dense with anchors: test fixtures, each tried where `sk_test_` starts
            lines += _fixtures(rnd, 1500)
        data = "\n".join(lines).encode()
        if n % 89 == 0:
            data = b"\x00\x01binary" + data
        if n % 83 == 0:
            data = "\n".join(lines).encode("utf-16-le")  # no BOM: found by the NUL pattern
        (sub / f"f{n}.txt").write_bytes(data)


def _reference(root: Path) -> set[tuple[str, str, int, int]]:
    """(path, rule id, start, end) of every match, the plain way."""
    patterns = [(r.id, regex.compile(r.regex.encode())) for r in RULES.rules]
    found = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        with open(path, "rb") as fh:
            data = fh.read()
        for text in _readings(data):
            for rule_id, pattern in patterns:
                for m in pattern.finditer(text):
                    span = m.span("secret")
                    found.add((path.relative_to(root).as_posix(), rule_id, *span))
    return found


def _fast(root: Path, settings: Settings | None = None) -> set[tuple[str, str, int, int]]:
    matcher = (settings or SETTINGS).matcher
    plan = worktree.plan([str(root)], root)
    found = set()
    for item in worktree.files(plan, include_ignored=False, max_size=1 << 30, excludes=()):
        for text in _readings(item.data) if hasattr(item, "data") else ():
            for m in find_matches(matcher, text).matches:
                found.add((item.path, m.rule_id, m.start, m.end))
    return found


def _readings(data: bytes) -> list[bytes]:
    """The raw bytes, and the UTF-16 reading when there is one (the engine's matches in each)."""
    utf16 = utf16_text(data)
    return [data] if utf16 is None else [data, utf16[0]]


def test_matches_equal_a_plain_full_regex_scan(tmp_path):
    _generate(tmp_path / "tree", files=300, seed=7)
    reference = _reference(tmp_path / "tree")
    assert len(reference) > 100
    assert _fast(tmp_path / "tree") == reference


def test_windows_and_gates_find_what_anchored_matching_finds(tmp_path):
    """The same rules with a prefix that matches nothing but is not a lookaround (`a{0}`): they are
    not tried at anchors, so hits go through windows, gates and whole-buffer passes instead."""
    from leakscan.match.engine import _compiled

    windowed = tuple(r._replace(regex="a{0}" + r.regex) for r in RULES.rules)
    settings = Settings(RULES._replace(rules=windowed), compile_matcher(windowed))
    _generate(tmp_path / "tree", files=120, seed=11)
    reference = _reference(tmp_path / "tree")
    assert _fast(tmp_path / "tree", settings) == reference == _fast(tmp_path / "tree")
    groups = [_compiled(g) for g in settings.matcher.groups]
    assert groups and not any(g.anchored for g in groups) and all(g.anchors for g in groups)


def test_workers_give_the_one_process_result(tmp_path):
    root = tmp_path / "tree"
    _generate(root, files=300, seed=11)
    plan = worktree.plan([str(root)], root)
    entries = list(worktree.entries(plan, include_ignored=False, excludes=()))
    items = worktree.files(plan, include_ignored=False, max_size=1 << 30, excludes=())
    one = scan_items(SETTINGS, items, target="t", mode="paths")
    read = parallel.bound(worktree.read_entry, max_size=1 << 30)
    for workers in (1, 2, 3):
        many = parallel.scan_parallel(
            SETTINGS, entries, read, target="t", mode="paths", workers=workers
        )
        assert many.findings == one.findings
        assert many.summary.skipped == one.summary.skipped
        assert (many.summary.files, many.summary.bytes) == (one.summary.files, one.summary.bytes)
    assert len(one.findings) > 20


def test_a_failing_worker_stops_the_scan_with_a_sentence_and_leaves_nothing_behind(tmp_path):
    from leakscan.errors import LeakscanError

    root = tmp_path / "tree"
    _generate(root, files=200, seed=5)
    plan = worktree.plan([str(root)], root)
    entries = list(worktree.entries(plan, include_ignored=False, excludes=()))
    parent = os.getpid()

    def read(entry: worktree.Entry):
        if os.getpid() != parent:
            raise RuntimeError("a worker breaks")
        return worktree.read_entry(entry, 1 << 20)

    before = sorted(os.listdir("/proc/self/fd")), _children()
    with pytest.raises(LeakscanError, match="a worker process failed"):
        parallel.scan_parallel(SETTINGS, entries, read, target="t", mode="paths", workers=3)
    assert (sorted(os.listdir("/proc/self/fd")), _children()) == before  # no pipe or child left


def _children() -> set[str]:
    """This process's child pids, running or not yet reaped (Linux)."""
    found: set[str] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as fh:
            found.update(fh.read().split())
    return found


@pytest.mark.parametrize(
    ("files", "workers"), [(929, 2), (1311, 2), (5, 3), (10**6, 64), (10**6, 999)]
)
def test_runs_cover_every_file_in_order_and_shrink(files, workers):
    """The runs processes take in turn: every file once, in order, at most MAX_RUNS of them (their
    numbers wait in a pipe), and the last ones small, so processes finish close together."""
    runs = parallel._runs(range(files), workers)
    assert [i for run in runs for i in run] == list(range(files))
    assert len(runs) <= parallel.MAX_RUNS
    assert len(runs[-1]) <= max(1, -(-files // parallel.MAX_RUNS))
    assert all(len(a) >= len(b) for a, b in itertools.pairwise(runs))


def test_cli_on_a_big_repository_uses_workers_and_reports_what_one_process_finds(
    tmp_path, monkeypatch
):
    repo = make_repo(tmp_path / "repo")
    _generate(repo, files=parallel.MIN_ITEMS + 40, seed=3)
    git(repo, "add", "-A")
    commit_file(repo, "README", "readme\n")
    assert parallel.worker_count(parallel.MIN_ITEMS + 41, cpus=2) == 2
    fast = run("scan", str(repo), "--format", "json", "-q")
    plan = worktree.plan([str(repo)], repo)
    items = worktree.files(plan, include_ignored=False, max_size=50 << 20, excludes=())
    one = scan_items(SETTINGS, items, target=str(repo), mode="worktree")
    got = json.loads(fast.stdout)
    assert got["scan"]["files"] == one.summary.files
    assert [f["secret_sha256"] for f in got["findings"]] == [f.secret_sha256 for f in one.findings]
    assert [len(f["locations"]) for f in got["findings"]] == [
        len(f.locations) for f in one.findings
    ]


def test_small_scans_stay_in_one_process():
    assert parallel.worker_count(1, cpus=8) == 1
    assert parallel.worker_count(parallel.MIN_ITEMS - 1, cpus=8) == 1
    assert parallel.worker_count(100_000, cpus=1) == 1


def test_anchors_are_read_off_the_rules_and_every_example_holds_one():
    from leakscan.match.literals import rule_anchors

    by_id = {r.id: rule_anchors(r.regex) for r in RULES.rules}
    assert by_id["stripe.restricted-key.test"] == {b"rk_" + b"test_", b"rkcs_" + b"test_"}
    assert by_id["stripe.webhook-secret"] == {b"whsec_"}
    for rule in RULES.rules:
        anchors = by_id[rule.id]
        assert anchors, rule.id
        for example in rule.examples:
            assert any(a in example.encode() for a in anchors), (rule.id, example[:12])


def test_matches_start_at_the_secret_only_when_nothing_but_lookarounds_precede_it():
    from leakscan.match.literals import starts_with_secret

    assert all(starts_with_secret(r.regex) for r in RULES.rules)
    assert starts_with_secret(r"(?<![a-z])(?:(?=x)|\b)(?P<secret>acme_[a-z]{8})")
    assert not starts_with_secret(r"token=(?P<secret>acme_[a-z]{8})")
    assert not starts_with_secret(r"(?:a|(?<=b))(?P<secret>acme_[a-z]{8})")
    assert not starts_with_secret(r"acme_[a-z]{8}")  # no secret group (and so no anchors either)
    assert not starts_with_secret(r"(?P<secret>acme_[a-z]{8}")  # unparsable


def test_no_anchors_when_they_cannot_be_proven():
    from leakscan.match.literals import rule_anchors

    assert rule_anchors("(?i)(?P<secret>abcdef[0-9]+)") is None  # case-insensitive
    assert rule_anchors("x(?P<secret>a|bcdefg)") is None  # a one-letter alternative filters nothing
    assert rule_anchors("tok_[0-9]{8}") is None  # no secret group
    assert rule_anchors("(?P<secret>[a-z]+_key_[0-9]+)") is None  # starts with a class
    assert rule_anchors("(?P<secret>(?:ab|cd)ef_[0-9]+)") == {b"abef_", b"cdef_"}


def _os_walk_reference(top: str) -> list[str]:
    """What the listing must yield: os.walk top-down, each directory's symlinked directories then its
    files (sorted), `.git` directories left out."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        out += [
            os.path.join(dirpath, d) for d in dirnames if os.path.islink(os.path.join(dirpath, d))
        ]
        out += [os.path.join(dirpath, name) for name in sorted(filenames)]
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["/", "//", ".", "..", "a", "b/"]), max_size=8).map("".join))
def test_targets_are_written_as_pathlib_writes_them(path: str):
    """Targets are strings (no pathlib on the scan path), cleaned to pathlib's form, so reports
    show the paths they showed with pathlib."""
    from pathlib import PurePosixPath

    assert worktree._clean(path) == (str(PurePosixPath(path)) if path else ".")


def test_the_directory_listing_is_os_walks(tmp_path):
    rnd = random.Random(5)
    dirs = [tmp_path]
    for n in range(300):
        parent = rnd.choice(dirs)
        roll = rnd.random()
        name = rnd.choice(["a", "B", "z", "_x", ".git", "ä", "10", "9"]) + str(n % 13)
        if roll < 0.25:
            (parent / name).mkdir(exist_ok=True)
            dirs.append(parent / name)
        elif roll < 0.3:
            (parent / ".git").mkdir(exist_ok=True)
            (parent / ".git" / "config").write_text("x")
        elif roll < 0.35 and not (parent / name).exists():
            (parent / name).symlink_to(rnd.choice(dirs), target_is_directory=True)
        elif roll < 0.38 and not (parent / name).exists():
            (parent / name).symlink_to(tmp_path / "missing")
        else:
            (parent / name).write_text(str(n))
    unreadable: dict[str, str] = {}
    assert list(worktree._walk_paths(str(tmp_path), unreadable)) == _os_walk_reference(
        str(tmp_path)
    )
    assert unreadable == {}
