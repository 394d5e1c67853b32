#!/usr/bin/env python3
"""What a second nightly run of `scan-many github:ORG --cache-dir C --state S` costs on an unchanged
fleet: a fetch of each mirror, not a clone. Serves the given repositories as a GitHub organisation
from the loopback forge of the tests (REST listing + `git http-backend`), runs leakscan twice, and
prints each run's wall time, the bytes git downloaded, the git commands it ran (GIT_TRACE) and the
protocol-v2 commands the server answered.

    python benchmarks/fleet_cache.py REPO [REPO ...] [--copies N]

REPO: a git repository (its branches and tags are served). --copies serves each N times under
different names (a bigger fleet). Not a test: the numbers depend on the machine (docs/scan-many.md).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.forge import Forge, github_repo, serving

TOKEN = "bench-" + "token-" + "0123456789"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repos", nargs="+", type=Path)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleet-cache-") as tmp:
        work = Path(tmp)
        served = work / "served"
        names = []
        for repo in args.repos:
            for i in range(args.copies):
                name = f"{repo.resolve().parent.name if repo.name in ('repo', '.git') else repo.name}-{i}"
                subprocess.run(["git", "clone", "--bare", "--quiet", str(repo), str(served / name)],
                               check=True)  # fmt: skip
                names.append(name)
        with serving(Forge(served, TOKEN, page_size=100)) as forge:
            forge.repos["/api/orgs/bench/repos"] = [github_repo(forge, n) for n in names]
            for label, cache in (
                ("first run (cold cache)", True),
                ("second run (unchanged fleet)", True),
                ("the same second run without --cache-dir (before)", False),
            ):
                _run(forge, work, label, cache)  # fmt: skip


def _run(forge: Forge, work: Path, label: str, cache: bool) -> None:
    trace = work / f"trace-{len(forge.log)}.log"
    forge.git_commands.clear()
    forge.git_bytes = 0
    cmd = [sys.executable, "-m", "leakscan", "scan-many", "github:bench", "--api-url",
           f"{forge.url}/api", "--state", str(work / "state.json"), "--format", "json",
           "-o", str(work / "report.json"), "-j", "2", "-v"]  # fmt: skip
    cmd += ["--cache-dir", str(work / "cache")] if cache else []
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "GIT_TRACE": str(trace)}
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    ran = collections.Counter(
        " ".join(line.split("built-in: ", 1)[1].split()[:2])
        for line in trace.read_text().splitlines()
        if "built-in: git clone" in line or "built-in: git fetch" in line
    )
    print(f"## {label}: exit {proc.returncode}, {seconds:.2f} s wall")
    print(f"   git downloaded {forge.git_bytes / 1e6:.1f} MB; server answered "
          f"{dict(collections.Counter(forge.git_commands))}")  # fmt: skip
    print(f"   git commands (GIT_TRACE): {dict(ran)}")
    print("   " + "\n   ".join(line for line in proc.stderr.splitlines() if "note:" in line))


if __name__ == "__main__":
    main()
