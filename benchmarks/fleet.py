#!/usr/bin/env python3
"""`scan-many` against a loop of `leakscan scan --history`, and a simulated organisation.

    python benchmarks/fleet.py throughput FLEET [--workers 1,2] [--rounds 3] [--dask] [--single] [--pin]
    python benchmarks/fleet.py org WORK [--count 1000] [--jobs 2]
    python benchmarks/fleet.py nightly FLEET [--commits 10] [--jobs 2]

`throughput`: FLEET is a directory of bare repositories (e.g. 4 or 12 `git clone --bare` copies of
stripe-python). For each worker count W it runs, interleaved round by round (so a burst of load from
elsewhere hits every variant alike): the loop `for r in FLEET/*: leakscan scan --history -j W r`,
`leakscan scan-many FLEET -j W`, and with --dask `scan-many --executor dask` on a cluster of W
single-threaded worker processes started here on loopback (`dask scheduler` + `dask worker`).
--single also runs the first repository alone (scan-many splits it into W shards). --pin runs each
variant (and a Dask cluster of W workers) on W CPUs (`taskset -c 0-(W-1)`): one worker's scan also keeps `git rev-list` and
`git cat-file` busy on another core, so unpinned, "1 worker" already uses ~1.25 cores.
`org`: builds WORK/org with tests/fleet.py's `simulated_org` (1,000 repositories by default), scans
it, checks every planted key and corrupt repository, measures the coordinator's memory for 250, 500
and 1,000 repositories, then the nightly `--state` runs after new commits in 50 repositories.
`nightly`: a full `--state` run of FLEET (copies: it adds commits to them), then --commits new commits
on the default branch of each (the first repository's last one adds a live key), a second run, and a
third with nothing new.

Not a test: it takes many minutes, and its numbers depend on the machine and its load. It prints
markdown tables and writes the raw measurements to WORK or FLEET/../fleet-bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import Measured, measure, python_leaves, tree

LEAKSCAN = str(Path(sys.executable).with_name("leakscan"))
JSON_OUT = ("--format", "json", "-o")


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


class Cluster:
    """A Dask scheduler and `workers` single-threaded worker processes on loopback."""

    def __init__(self, workers: int, scratch: Path, pin: bool = False) -> None:
        from distributed import Client

        info = scratch / f"scheduler-{workers}.json"
        dask = str(Path(sys.executable).with_name("dask"))
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        cpus = ["taskset", "-c", f"0-{workers - 1}"] if pin else []
        self.scheduler = subprocess.Popen([*cpus, dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                           "--no-dashboard", "--scheduler-file", str(info)], **quiet)  # fmt: skip
        while not info.exists():
            time.sleep(0.2)
        self.address = json.loads(info.read_text())["address"]
        self.worker = subprocess.Popen([*cpus, dask, "worker", self.address, "--nworkers", str(workers),
                                        "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                                        "--memory-limit", "0"], **quiet)  # fmt: skip
        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
        self.workers = python_leaves(self.worker.pid)

    def pids(self) -> list[int]:
        return tree(self.scheduler.pid) + tree(self.worker.pid)

    def close(self) -> None:
        for proc in (self.worker, self.scheduler):
            proc.terminate()
            proc.wait(30)


def throughput(args: argparse.Namespace) -> None:
    fleet = Path(args.fleet).resolve()
    repos = sorted(p for p in fleet.iterdir() if p.is_dir())
    scratch = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    counts = [int(w) for w in args.workers.split(",")]
    clusters = {w: Cluster(w, scratch, args.pin) for w in counts} if args.dask else {}
    runs: list[dict] = []
    try:
        variants = [
            (kind, w)
            for w in counts
            for kind in ("loop", "local", *(("dask",) if args.dask else ()))
        ]
        if args.single:
            variants += [(f"{kind}-one", w) for w in counts for kind in ("loop", "local")]
        for r in range(args.rounds):
            for kind, w in variants[r % len(variants) :] + variants[: r % len(variants)]:
                load = os.getloadavg()[0]
                m, blobs, nbytes = _variant(kind, w, repos, fleet, scratch, clusters, args.pin)
                runs.append({"round": r, "kind": kind, "workers": w, "load": load, "blobs": blobs,
                             "bytes": nbytes, **m._asdict()})  # fmt: skip
                print(json.dumps(runs[-1]), file=sys.stderr)
    finally:
        for c in clusters.values():
            c.close()
        shutil.rmtree(scratch, ignore_errors=True)
    out = fleet.parent / f"fleet-bench-{fleet.name}.json"
    out.write_text(json.dumps(runs, indent=1))
    print(_table(runs, len(repos)))


def _variant(kind: str, w: int, repos: list[Path], fleet: Path, scratch: Path,
             clusters: dict[int, Cluster], pin: bool) -> tuple[Measured, int, int]:  # fmt: skip
    report = scratch / "report.json"
    cpus = ["taskset", "-c", f"0-{w - 1}"] if pin else []
    if kind.startswith("loop"):
        parts = []
        blobs = nbytes = 0
        for repo in repos[:1] if kind.endswith("-one") else repos:
            cmd = [*cpus, LEAKSCAN, "scan", "--history", "-j", str(w), str(repo), *JSON_OUT,
                   str(report)]  # fmt: skip
            parts.append(measure(cmd, scratch))
            doc = _report(report)["scan"]
            blobs, nbytes = blobs + doc["blobs"], nbytes + doc["bytes"]
        total = Measured(max(p.code for p in parts), sum(p.wall for p in parts),
                         sum(p.cpu for p in parts), max(p.coordinator_mib for p in parts),
                         max(p.worker_mib for p in parts), max(p.processes for p in parts))  # fmt: skip
        return total, blobs, nbytes
    source = str(fleet)
    if kind.endswith("-one"):
        (scratch / "one.txt").write_text(f"{repos[0]}\n")
        source = str(scratch / "one.txt")
    cmd = [LEAKSCAN, "scan-many", source, *JSON_OUT, str(report)]
    cmd = [*cpus, *cmd]
    if kind == "dask":
        c = clusters[w]
        m = measure([*cmd, "--executor", "dask", "--scheduler", c.address], scratch, c.pids(),
                    c.workers)  # fmt: skip
    else:
        m = measure([*cmd, "-j", str(w)], scratch)
    doc = _report(report)["scan"]
    return m, doc["blobs"], doc["bytes"]


def _table(runs: list[dict], repos: int) -> str:
    """One row per variant: medians over the rounds, the wall range, and the throughput ratio to the
    loop at the same worker count (median of the per-round ratios: each pair ran back to back)."""
    lines = [f"{repos} repositories, {max(r['round'] for r in runs) + 1} rounds",
             "",
             ("| run | workers | wall s (median, min–max) | CPU s | blobs/s | MiB/s | × loop | "
              "peak RSS coordinator / worker MiB | load avg |"),
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for kind, w in dict.fromkeys((r["kind"], r["workers"]) for r in runs):
        mine = [r for r in runs if (r["kind"], r["workers"]) == (kind, w)]
        walls = [r["wall"] for r in mine]
        wall = statistics.median(walls)
        loop = "loop-one" if kind.endswith("-one") else "loop"
        ratios = [lo["wall"] / r["wall"] for r in mine for lo in runs
                  if (lo["kind"], lo["workers"], lo["round"]) == (loop, w, r["round"])]  # fmt: skip
        ratio = f"{statistics.median(ratios):.2f}" if ratios and not kind.startswith("loop") else ""
        lines.append(
            f"| {kind} | {w} | {wall:.1f} ({min(walls):.1f}–{max(walls):.1f}) | "
            f"{statistics.median(r['cpu'] for r in mine):.1f} | {mine[0]['blobs'] / wall:,.0f} | "
            f"{mine[0]['bytes'] / wall / 2**20:.1f} | {ratio} | "
            f"{max(r['coordinator_mib'] for r in mine):.0f} / {max(r['worker_mib'] for r in mine):.0f} | "
            f"{statistics.median(r['load'] for r in mine):.1f} |"
        )
    return "\n".join(lines)


def org(args: argparse.Namespace) -> None:
    from tests import keys
    from tests.fleet import add_commits, simulated_org

    work = Path(args.work).resolve()
    top = work / "org"
    if top.exists():
        shutil.rmtree(top)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    truth = simulated_org(top, args.count)
    print(
        f"generated {args.count} repositories in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    state, report = work / "nightly.json", work / "report.json"
    state.unlink(missing_ok=True)
    jobs = ("-j", str(args.jobs))
    rows = []

    def run(label: str, source: Path, *extra: str) -> dict:
        m = measure(
            [LEAKSCAN, "scan-many", str(source), *jobs, *JSON_OUT, str(report), *extra], scratch
        )
        doc = _report(report)
        rows.append(
            {
                "run": label,
                **m._asdict(),
                "blobs": doc["scan"]["blobs"],
                "bytes": doc["scan"]["bytes"],
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
        return doc

    doc = run("first --state run", top, "--state", str(state))
    checks = [_check(doc, truth.planted, truth.corrupt, rows[-1]["code"])]
    names = sorted(p.name for p in top.iterdir())
    for size in (250, 500, 1000):
        if size < args.count:
            listing = work / f"first-{size}.txt"
            listing.write_text("".join(f"org/{n}\n" for n in names[:size]))
            run(f"{size} repositories (memory)", listing)
    nightly = [n for n in names if n not in truth.corrupt][1::20][:50]
    fresh = {n: keys.key("secret", "live", seed=900 + i) for i, n in enumerate(nightly[::10])}
    for n in nightly:
        add_commits(top / n, 10, fresh.get(n, ""))
    doc = run("nightly: 10 new commits in 50 repositories", top, "--state", str(state))
    checks.append(_check(doc, {k: {n} for n, k in fresh.items()}, truth.corrupt, rows[-1]["code"]))
    run("nightly: nothing new", top, "--state", str(state))
    for n in nightly:
        add_commits(top / n, 20)
    run("nightly: 20 new commits in 50 repositories", top, "--state", str(state))
    (work / "org-bench.json").write_text(json.dumps({"rows": rows, "checks": checks}, indent=1))
    print("\n".join(checks))
    print(
        "| run | exit | wall s | CPU s | blobs | MiB | blobs/s | coordinator peak RSS MiB | worker MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['code']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['blobs']} | "
              f"{r['bytes'] / 2**20:.1f} | {r['blobs'] / r['wall']:,.0f} | {r['coordinator_mib']:.0f} | "
              f"{r['worker_mib']:.0f} |")  # fmt: skip


def nightly(args: argparse.Namespace) -> None:
    from tests import keys
    from tests.conftest import git
    from tests.fleet import fast_repo

    fleet = Path(args.fleet).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="fleet-nightly-"))
    state, report = scratch / "state.json", scratch / "report.json"
    cmd = [LEAKSCAN, "scan-many", str(fleet), "-j", str(args.jobs), "--state", str(state),
           *JSON_OUT, str(report)]  # fmt: skip
    nonce = time.time_ns()  # new content every time: a blob seen before is not scanned again
    new = keys.key("secret", "live", seed=nonce)
    print("| run | exit | wall s | CPU s | blobs | findings |\n|---|---|---|---|---|---|")
    for label in ("first run, in full", f"after {args.commits} new commits in each", "nothing new"):
        if label.startswith("after"):
            for i, repo in enumerate(sorted(p for p in fleet.iterdir() if p.is_dir())):
                branch = git(repo, "symbolic-ref", "--short", "HEAD")
                have = int(git(repo, "rev-list", "--count", branch))
                commits = [{f"nightly/{nonce}-{j}.py": f"X = {j}\n"} for j in range(args.commits)]
                if i == 0:
                    commits[-1] = {**commits[-1], f"nightly/{nonce}.env": f"STRIPE_KEY={new}\n"}
                fast_repo(repo, commits, branch=branch, start=have)
        m = measure(cmd, scratch)
        doc = _report(report)
        print(f"| {label} | {m.code} | {m.wall:.1f} | {m.cpu:.2f} | {doc['scan']['blobs']} | "
              f"{len(doc['findings'])} |", flush=True)  # fmt: skip
    shutil.rmtree(scratch, ignore_errors=True)


def _check(doc: dict, planted: dict[str, set[str]], corrupt: set[str], code: int) -> str:
    """Every planted key exactly once with exactly its repositories; the corrupt ones listed; exit 2."""
    import hashlib

    found: dict[str, list[set[str]]] = {}
    for f in doc["findings"]:
        found.setdefault(f["secret_sha256"], []).append(
            {loc["repository"] for loc in f["locations"]}
        )
    want = {hashlib.sha256(k.encode()).hexdigest(): names for k, names in planted.items()}
    exact = found == {h: [names] for h, names in want.items()}
    failed = {k["path"] for k in doc["scan"]["skipped"] if k.get("incomplete")}
    return (f"{len(want)} planted keys, each found once with all its repositories: {exact}; "
            f"{len(corrupt)} corrupt repositories listed: {failed == corrupt}; exit {code}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("fleet")
    t.add_argument("--workers", default="1,2")
    t.add_argument("--rounds", type=int, default=3)
    t.add_argument("--dask", action="store_true")
    t.add_argument("--single", action="store_true")
    t.add_argument("--pin", action="store_true")
    o = sub.add_parser("org")
    o.add_argument("work")
    o.add_argument("--count", type=int, default=1000)
    o.add_argument("--jobs", type=int, default=2)
    n = sub.add_parser("nightly")
    n.add_argument("fleet")
    n.add_argument("--commits", type=int, default=10)
    n.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    {"throughput": throughput, "org": org, "nightly": nightly}[args.command](args)


if __name__ == "__main__":
    main()
