"""Issue 17's measurements: what opening archives costs, and what it finds, side by side.

    python benchmarks/archives.py ab --base BASE_LEAKSCAN --candidate LEAKSCAN \\
        --input synth=CORPUS/synth --input stripe-python=CORPUS/stripe-python [--rounds 7]
    python benchmarks/archives.py peers --candidate LEAKSCAN --peers-venv VENV DIR [--rounds 5]
    python benchmarks/archives.py seven --candidate LEAKSCAN --peers-venv VENV

`ab`: tree and history scans of inputs with no containers, the original main (BASE) against this
branch (CANDIDATE, both regular installs), run interleaved (A, B, A, B, ...) so that the load other
jobs put on the shared machine falls on both; each run's CPU time (user + sys of the process and its
children, from `wait4`) is the number compared, wall time is printed beside it. A tree scan reads a
plain export of HEAD (no `.git`, as `../shared/bench` does), made once under `--work`.
`peers`: one directory (wheels, npm tarballs) scanned by leakscan, Betterleaks (`fs`, its Stripe
rule, archives to depth 8, its default) and Kingfisher (`scan`, its Stripe rule, archives extracted,
its default), interleaved; median wall, CPU and peak RSS, and the ratios leakscan/peer.
`seven`: issue 17's seven files (keys made at run time) and what each tool finds in them.
Prints markdown; it is not a test (it takes minutes and its numbers depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Run(NamedTuple):
    wall: float
    cpu: float  # user + sys, seconds
    rss_mb: float  # peak resident set of the largest process


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 200):  # 1: leakscan found something; 200: kingfisher did
        raise SystemExit(f"{argv[0]} exited {code}: {' '.join(argv)}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def interleaved(
    commands: dict[str, list[str]], rounds: int, warmup: int = 1
) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for i in range(warmup + rounds):
        for name, argv in commands.items():
            run = measure(argv, {"KF_RULE_CACHE_DIR": "/tmp/leakscan-kf-cache"})
            if i >= warmup:
                runs[name].append(run)
    return runs


def med(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def export_tree(repo: Path, work: Path) -> Path:
    out = work / f"{repo.name}-tree"
    if not out.exists():
        out.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", "HEAD"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


def ab(base: str, candidate: str, inputs: list[str], rounds: int, work: Path) -> None:
    print(
        "| input | scan | CPU s base (median) | CPU s branch | CPU branch/base | wall s base | wall s branch |"
    )
    print("|---|---|---|---|---|---|---|")
    for spec in inputs:
        name, _, path = spec.partition("=")
        repo = Path(path)
        tree = export_tree(repo, work)
        for scan, args in (("tree", [str(tree)]), ("history", ["--history", str(repo)])):
            common = [*args, "--format", "json", "-o", os.devnull, "--no-progress"]
            runs = interleaved(
                {"base": [base, "scan", *common], "branch": [candidate, "scan", *common]}, rounds
            )
            b, c = runs["base"], runs["branch"]
            print(f"| {name} | {scan} | {med(b, 'cpu'):.2f} | {med(c, 'cpu'):.2f} | "
                  f"{med(c, 'cpu') / med(b, 'cpu'):.3f} | {med(b, 'wall'):.2f} | {med(c, 'wall'):.2f} |")  # fmt: skip
        sys.stdout.flush()


def peer_tools(venv: str) -> tuple[str, str]:
    """The native Kingfisher and Betterleaks binaries inside the wheels `setup_peers.sh` installs."""

    def find(python: str, module: str, binary: str) -> str:
        code = (f"import importlib.util,os;s=importlib.util.find_spec({module!r});"
                f"print(os.path.join(os.path.dirname(s.origin),'bin',{binary!r}))")  # fmt: skip
        return subprocess.run(
            [python, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()

    kingfisher = find(f"{venv}/bin/python", "kingfisher", "kingfisher")
    betterleaks = find(f"{venv.rstrip('/')}-betterleaks/bin/python", "betterleaks", "betterleaks")
    return kingfisher, betterleaks


def peer_commands(candidate: str, venv: str, target: str, out: Path) -> dict[str, list[str]]:
    kingfisher, betterleaks = peer_tools(venv)
    return {
        "leakscan": [candidate, "scan", target, "--format", "json", "-o", str(out / "leakscan.json"),
                     "--no-progress"],
        "betterleaks:stripe": [betterleaks, "fs", target, "-ir", "stripe-access-token", "-s",
                               "--no-banner", "-l", "error", "--exit-code", "0",
                               "-o", str(out / "betterleaks.json")],
        "kingfisher:stripe": [kingfisher, "scan", target, "--git-history", "none", "--rule",
                              "betterleaks.stripe", "-n", "--no-update-check", "-q", "-f", "json",
                              "-o", str(out / "kingfisher.json")],
    }  # fmt: skip


def peers(candidate: str, venv: str, target: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = interleaved(peer_commands(candidate, venv, target, Path(tmp)), rounds)
    ours = runs["leakscan"]
    print("| tool | wall s (median, min-max) | CPU s | peak RSS MB | wall ratio leakscan/tool | "
          "CPU ratio | RSS ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, rs in runs.items():
        walls = [r.wall for r in rs]
        print(f"| {name} | {med(rs, 'wall'):.2f} ({min(walls):.2f}-{max(walls):.2f}) | "
              f"{med(rs, 'cpu'):.2f} | {med(rs, 'rss_mb'):.0f} | "
              f"{med(ours, 'wall') / med(rs, 'wall'):.2f} | {med(ours, 'cpu') / med(rs, 'cpu'):.2f} | "
              f"{med(ours, 'rss_mb') / med(rs, 'rss_mb'):.2f} |")  # fmt: skip


def seven(candidate: str, venv: str) -> None:
    from tests import keys
    from tests.archive_kit import seven as seven_files

    planted = [keys.key("secret", "live") for _ in range(7)]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "seven"
        target.mkdir()
        for name, data in seven_files(planted).items():
            (target / name).write_bytes(data)
        commands = peer_commands(candidate, venv, str(target), Path(tmp))
        found = {}
        for name, argv in commands.items():
            measure(argv, {"KF_RULE_CACHE_DIR": "/tmp/leakscan-kf-cache"})
            out = next(a for a in argv if a.endswith(".json") and a.startswith(tmp))
            text = Path(out).read_text() if Path(out).exists() else ""
            found[name] = [any(k in text or _hashed(k) in text for k in (key,)) for key in planted]
    print("| file | " + " | ".join(found) + " |")
    print("|---|" + "---|" * len(found))
    for i, name in enumerate(seven_files(planted)):
        print(
            f"| `{name}` | "
            + " | ".join("found" if found[t][i] else "missed" for t in found)
            + " |"
        )


def _hashed(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()  # leakscan's JSON holds the hash, not the key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ab")
    a.add_argument("--base", required=True)
    a.add_argument("--candidate", required=True)
    a.add_argument("--input", action="append", required=True, metavar="NAME=REPO")
    a.add_argument("--rounds", type=int, default=7)
    a.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "leakscan-archives-bench"
    )
    p = sub.add_parser("peers")
    p.add_argument("--candidate", required=True)
    p.add_argument("--peers-venv", required=True)
    p.add_argument("target")
    p.add_argument("--rounds", type=int, default=5)
    s = sub.add_parser("seven")
    s.add_argument("--candidate", required=True)
    s.add_argument("--peers-venv", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "ab":
        ab(args.base, args.candidate, args.input, args.rounds, args.work)
    elif args.cmd == "peers":
        peers(args.candidate, args.peers_venv, args.target, args.rounds)
    else:
        seven(args.candidate, args.peers_venv)
    print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
