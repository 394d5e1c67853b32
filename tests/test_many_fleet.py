"""`scan-many` as an organisation runs it: a simulated organisation (planted keys, shared keys,
corrupt repositories), the nightly incremental run, and where a repository is split into shards."""

from __future__ import annotations

import json
import os

import pytest

from leakscan.many.repolist import read_source
from leakscan.many.run import Plan, scan_many
from leakscan.many.state import State
from leakscan.many.task import RepoOutcome, RepoTask, cut, run_repo_task
from leakscan.sources.git import BlobRef
from leakscan.workers import Lost, each_task
from leakscan.workers.pool import LocalExecutor
from tests import keys
from tests.conftest import scan_json, sha256
from tests.fleet import add_commits, org, simulated_org

COUNT = 40


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory):
    top = tmp_path_factory.mktemp("org")
    return top, simulated_org(top, COUNT)


def _repositories(doc: dict) -> dict[str, set[str]]:
    """secret_sha256 -> the repositories of its one finding (a second finding fails the test)."""
    found: dict[str, set[str]] = {}
    for f in doc["findings"]:
        assert f["secret_sha256"] not in found, "a secret reported twice"
        found[f["secret_sha256"]] = {loc["repository"] for loc in f["locations"]}
    return found


def test_every_planted_key_once_with_all_its_repositories_and_the_corrupt_ones_listed(
    organisation, tmp_path
):
    top, truth = organisation
    assert len(truth.planted) == 6 and truth.corrupt == {"r0013"}
    state = tmp_path / "nightly.json"
    code, doc, err = scan_json(str(top), "--jobs", "2", "--state", str(state), command="scan-many")
    assert code == 2
    assert _repositories(doc) == {sha256(k): names for k, names in truth.planted.items()}
    failed = {k["path"] for k in doc["scan"]["skipped"] if k["incomplete"]}
    assert failed == truth.corrupt
    assert f"1 of {COUNT} repositories could not be scanned:" in err
    assert not any(k in err + str(doc) for k in truth.planted)

    # the night: three repositories get new commits, two of them a new key
    fresh = {
        "r0001": keys.key("secret", "live", seed=91),
        "r0022": keys.key("secret", "live", seed=92),
    }
    for name in ("r0001", "r0022", "r0030"):
        add_commits(top / name, 4, fresh.get(name, ""))
    code, doc, err = scan_json(str(top), "--jobs", "2", "--state", str(state), command="scan-many")
    assert code == 2  # the corrupt repository is still corrupt
    new = {"findings": [f for f in doc["findings"] if f["status"] == "new"]}
    assert _repositories(new) == {sha256(k): {name} for name, k in fresh.items()}
    # the keys of the first run still at HEAD are carried forward as open (issue 23), not rescanned
    assert {f["status"] for f in doc["findings"]} <= {"new", "open"}
    assert set(_repositories(doc)) - set(_repositories(new)) <= {sha256(k) for k in truth.planted}
    assert doc["scan"]["blobs"] == 3 * 4 + 2  # each new file once, and the two env files
    note = f"{COUNT} repositories: 0 scanned in full, {COUNT - 1} since the last run, 1 could"
    assert doc["scan"]["notes"] == [f"{note} not be scanned"]


class Recording:
    """A real local executor that keeps every task it was given (to see how the run was cut)."""

    def __init__(self, workers: int) -> None:
        self.inner = LocalExecutor(each_task(run_repo_task), workers)
        self.tasks: list[RepoTask] = []

    def submit(self, task: RepoTask) -> None:
        self.tasks.append(task)
        self.inner.submit(task)

    def next_done(self) -> tuple[RepoTask, RepoOutcome | Lost]:
        return self.inner.next_done()

    def close(self) -> None:
        self.inner.close()


def _plan(shard_bytes: int) -> Plan:
    from leakscan.match.engine import compile_matcher
    from leakscan.settings import Settings, load_rules

    rules = load_rules(())
    return Plan(Settings(rules, compile_matcher(rules.rules)), State(), "x", shard_bytes)


def _run(specs, workers: int, shard_bytes: int):
    executor = Recording(workers)
    try:
        done = scan_many(specs, _plan(shard_bytes), executor, target="org", workers=workers)
    finally:
        executor.close()
    return done, executor.tasks


def test_a_repository_is_split_only_when_workers_would_be_idle(tmp_path):
    top = tmp_path / "org"
    org(top, 4, keys.key("secret", "live", seed=7))
    specs = read_source(top)
    done, tasks = _run(specs, 2, 1)  # four repositories keep two workers busy: no split
    assert [t.split for t in tasks] == [1, 1, 1, 1] and len(done.result.findings) == 5

    whole, _ = _run(specs[:1], 1, 1)
    split, tasks = _run(specs[:1], 2, 1)  # one repository, two workers: listed once, two shards
    assert [(t.split, t.shard.of) for t in tasks] == [(2, 1), (1, 2), (1, 2)]
    ranges = [t.blobs for t in tasks[1:]]
    assert all(ranges) and len({b.oid for r in ranges for b in r}) == sum(map(len, ranges))
    assert split.result.findings == whole.result.findings and len(whole.result.findings) == 2
    assert split.result.summary.blobs == whole.result.summary.blobs == 5
    assert split.tips == whole.tips


def test_cut_makes_contiguous_ranges_of_about_the_same_bytes():
    blobs = [BlobRef(f"{i:040x}", size) for i, size in enumerate([5, 1, 1, 1, 1, 1, 100, 1, 1, 2])]
    ranges = cut(blobs, 4, 10, max_size=50)  # the 100-byte blob is over the limit: weighs nothing
    assert [b for r in ranges for b in r] == blobs  # the order kept, every blob once
    assert len(ranges) == 1  # 14 bytes to read: not worth two shards of 10
    ranges = cut(blobs, 4, 3, max_size=50)
    assert len(ranges) == 4 and [b for r in ranges for b in r] == blobs
    # cut where the running total passes each quarter of the 14 bytes
    assert [sum(b.size for b in r if b.size <= 50) for r in ranges] == [5, 2, 4, 3]
    assert cut(blobs, 1, 1, max_size=50) == (tuple(blobs),)


def test_dask_gives_the_same_findings_as_the_local_pool_also_when_it_splits(organisation, tmp_path):
    from distributed import LocalCluster

    top, _ = organisation
    one = tmp_path / "one.txt"
    one.write_text(f"{top / 'r0003'}\n")
    local = [scan_json(str(src), "--jobs", "2", *extra, command="scan-many")
             for src, extra in ((top, ()), (one, ("--shard-size", "1")))]  # fmt: skip
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:  # fmt: skip
        address = ("--executor", "dask", "--scheduler", cluster.scheduler_address)
        dask = [scan_json(str(src), *address, *extra, command="scan-many")
                for src, extra in ((top, ()), (one, ("--shard-size", "1")))]  # fmt: skip
    for (lcode, ldoc, _), (dcode, ddoc, _) in zip(local, dask):
        assert (dcode, ddoc["findings"]) == (lcode, ldoc["findings"])
        assert ddoc["scan"]["blobs"] == ldoc["scan"]["blobs"]
    assert local[0][0] == 2 and local[1][0] == 1 and len(local[1][1]["findings"]) == 1


def test_a_recorded_tip_that_is_gone_is_dropped_and_the_others_still_bound_the_scan(tmp_path):
    top = tmp_path / "org"
    org(top, 1, keys.key("secret", "live", seed=7))
    state = tmp_path / "state.json"
    assert scan_json(str(top), "--state", str(state), command="scan-many")[0] == 1
    doc = json.loads(state.read_text())
    (tips,) = doc["repositories"].values()
    tips["refs/tags/force-pushed"] = "f" * 40  # a commit this repository no longer has
    state.write_text(json.dumps(doc))
    add_commits(top / "repo00", 2)
    code, report, err = scan_json(str(top), "--state", str(state), command="scan-many")
    assert report["scan"]["blobs"] == 2, err  # only the new commits were read
    # nothing new; the key of the first run is still at HEAD, so it is carried forward as open
    assert code == 1 and [f["status"] for f in report["findings"]] == ["open"]


MALLINFO = """
import ctypes, os
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
from leakscan.workers.cluster import restore_malloc
if os.environ.get("RESTORE"):
    restore_malloc()
before = libc.mallinfo2().hblks
buffer = bytearray(1 << 20)
print(libc.mallinfo2().hblks - before, "MALLOC_TRIM_THRESHOLD_" in os.environ)
"""


def test_dask_workers_get_their_malloc_back():
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc mmap every
    buffer over 128 KiB (a blob read) afresh: ~20 % more CPU on a history scan. A task's first
    step undoes it: a 1 MiB buffer then comes from the heap (no new mmapped block), and the git
    processes it starts no longer inherit the variable."""
    import subprocess
    import sys

    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    as_dask = subprocess.run([sys.executable, "-c", MALLINFO], env=env, capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
    restored = subprocess.run([sys.executable, "-c", MALLINFO], env={**env, "RESTORE": "1"},
                              capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert as_dask == ["1", "True"] and restored == ["0", "False"]
