"""A history scan's memory does not grow with the history: every git it runs is held to fixed caches
(whatever the repository's config says), and blobs are read in an order those small caches suffice for.
See docs/performance.md, "Memory"."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from leakscan.sources import history
from leakscan.sources.git import BlobRef
from tests import keys
from tests.conftest import commit_file, git, run

BOUNDED = ("core.deltabasecachelimit", "core.packedgitlimit", "core.packedgitwindowsize")
HUGE = "2g"
MIB = 1 << 20


def _git_runs(trace: Path) -> dict[str, dict[str, object]]:
    """Per git process of a GIT_TRACE2_EVENT file: its argv and the config values it read, in order."""
    runs: dict[str, dict[str, object]] = defaultdict(lambda: {"argv": [], "config": []})
    for line in trace.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "start":
            runs[event["sid"]]["argv"] = event["argv"]
        elif event["event"] == "def_param":
            runs[event["sid"]]["config"].append((event["scope"], event["param"], event["value"]))  # type: ignore[union-attr]
    return runs


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": MIB, "g": 1 << 30}
    return int(text[:-1]) * units[text[-1].lower()] if text[-1].lower() in units else int(text)


def test_history_gits_carry_memory_bounds_over_the_repositorys_own_config(repo, tmp_path):
    for i in range(3):
        commit_file(repo, "settings.py", f"KEY = '{keys.key('secret', 'live')}'\n# {i}\n")
    for key in BOUNDED:  # the repository asks for huge caches; leakscan's own bounds must win
        git(repo, "config", key, HUGE)
    trace = tmp_path / "trace2.json"
    env = {"GIT_TRACE2_EVENT": str(trace), "GIT_TRACE2_CONFIG_PARAMS": ",".join(BOUNDED)}
    result = run("scan", "--history", str(repo), "--format", "json", "--no-progress", env=env)
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["findings"]

    runs = _git_runs(trace)
    seen: set[str] = set()
    for sid, info in runs.items():
        argv = [a for a in info["argv"] if not a.startswith("--git-dir")]  # type: ignore[union-attr]
        if len(argv) < 2 or argv[1] not in ("cat-file", "rev-list", "log"):
            continue
        seen.add(argv[1] if argv[1] != "cat-file" else " ".join(argv[1:3]))
        config = info["config"]
        assert any(scope == "local" and value == HUGE for scope, _, value in config), (sid, config)  # type: ignore[union-attr]
        last = {param: (scope, value) for scope, param, value in config}  # type: ignore[union-attr]
        for key in BOUNDED:  # git takes the last value it reads
            scope, value = last[key]
            assert scope == "command", (argv, key, last[key])
            assert _size(value) <= 64 * MIB, (argv, key, value)
    # the listing, the blob reads, the reachability walk and the attribution walk were all seen
    assert {"cat-file --batch-all-objects", "cat-file --batch", "rev-list", "log"} <= seen, seen


def test_blobs_are_listed_with_every_delta_after_its_base(repo):
    text = "".join(
        f"line {n} of a file that changes a little in every commit\n" for n in range(300)
    )
    for i in range(12):
        commit_file(repo, "big.txt", text + f"change {i}\n" * i)
        commit_file(repo, f"other{i % 3}.txt", text[: 2000 + i * 50])
    git(repo, "gc", "-q", "--aggressive")  # a pack with delta chains
    r = history.open_repo(repo)
    blobs = history.all_objects(r).blobs
    out = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) "
              "%(deltabase)")  # fmt: skip
    base_of = {
        oid: base for oid, kind, base in (ln.split() for ln in out.splitlines()) if kind == "blob"
    }
    position = {b.oid: i for i, b in enumerate(blobs)}
    assert sorted(position) == sorted(base_of)  # every blob exactly once
    deltas = [oid for oid, base in base_of.items() if base in position]
    assert len(deltas) >= 5  # the test means something only if the pack has chains
    for oid in deltas:
        assert position[base_of[oid]] < position[oid]


def test_delta_order_reads_each_family_depth_first():
    names = "ABCDEFGH"
    blobs = [BlobRef(n, 1) for n in names]
    # pack order A..H; C and F are deltas of A, E of C, D of B, H of G (listed before its base),
    # and a cycle: G is a delta of H's copy in another pack
    parent = [-1, -1, 0, 1, 2, 0, 7, 6]
    order = "".join(b.oid for b in history.delta_order(blobs, parent))
    assert order[:6] == "ACEFBD"  # A's family together, each delta right after its base's subtree
    assert sorted(order) == sorted(names)  # every blob exactly once, the cycle's too


def _pipe_sizes() -> list[int]:
    """The buffer size of every pipe this process holds open (Linux)."""
    import fcntl
    import os

    sizes = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("pipe:"):
                sizes.append(fcntl.fcntl(int(name), fcntl.F_GETPIPE_SZ))
        except OSError:
            continue
    return sizes


def test_bulk_blob_reads_get_a_wide_pipe_and_read_the_same_bytes(repo):
    """History workers read git's output through a 1 MiB pipe (fewer reads and context switches);
    the blobs read are the same either way."""
    import os

    from leakscan.sources.git import BULK_PIPE, cat_file

    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_SETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, BULK_PIPE)
    except OSError:
        pytest.skip("this system refuses 1 MiB pipes (leakscan then keeps the default)")
    finally:
        os.close(r)
        os.close(w)

    for i in range(3):
        commit_file(repo, f"f{i}.txt", f"line {i}\n" * 20_000)
    git_dir = history.open_repo(repo).git_dir
    oids = [b.oid for b in history.all_objects(history.open_repo(repo), with_commits=False)[0]]
    with cat_file(git_dir) as read:
        plain = list(read(oids, None))
        assert BULK_PIPE not in _pipe_sizes()
    with cat_file(git_dir, bulk=True) as read:
        wide = list(read(oids, None))
        assert BULK_PIPE in _pipe_sizes()
    assert wide == plain and plain
