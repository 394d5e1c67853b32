#!/usr/bin/env python3
"""leakscan side by side with gitleaks and Kingfisher: prepare the inputs, run, write the table.

    python3 benchmarks/perf.py prepare [--corpus DIR]
    python3 benchmarks/perf.py run [--corpus DIR] [--inputs synth,stripe-python,sqlalchemy,staged] [--dry-run]
    python3 benchmarks/perf.py render [--inputs ...]      # the table again, from the raw results in --work

Not a test and not part of CI: it takes minutes and its numbers depend on the machine. It drives the
shared harness (`../shared/bench/`: compare.sh for tree and history scans, latency.py for the
pre-commit case, score_truth.py for the synthetic repository's planted truth) and writes the results
between the markers of docs/performance.md, with the machine's facts and every command it ran.

Inputs (under --corpus, default `../corpus` next to the project):
  synth          made by `prepare` with the shared generator (deterministic; truth in synth.truth.json)
  stripe-python  git clone https://github.com/stripe/stripe-python   (you clone the real ones yourself)
  sqlalchemy     git clone https://github.com/sqlalchemy/sqlalchemy
Peers: `../shared/bench/setup_peers.sh VENV` installs them from PyPI wheels; pass VENV as PEERS_VENV.
  staged         not a repository: the pre-commit case (latency.py) on a clone of the first real input
Environment: RUNS, WARMUP (harness rounds; RUNS_<input> overrides RUNS for one input, e.g.
RUNS_sqlalchemy=1), BENCH_WORK (scratch), LEAKSCAN (the leakscan command, default: the one next to this
Python), BENCH_DIR (default ../shared/bench). Commands are written to the doc with these locations
replaced by $CORPUS, $BENCH_WORK and ../shared/bench, so the doc holds no machine's paths.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SYNTH_ARGS = ("--commits", "1500", "--files", "400", "--size", "40M", "--seed", "7")
PEER_ROWS = "^gitleaks:stripe$|^kingfisher:stripe4$"
PEERS = ("gitleaks:stripe", "kingfisher:stripe4")
GOALS = {  # (mode, input kind) -> max ratio to gitleaks, to Kingfisher (issue 7)
    ("tree", "real"): (0.2, 1.5),
    ("tree", "synth"): (0.2, 1.5),
    ("history", "real"): (0.5, 0.75),
    ("history", "synth"): (0.35, 1.5),
    ("staged", "real"): (0.25, 1.5),
}


def bench_dir() -> Path:
    return Path(os.environ.get("BENCH_DIR") or ROOT.parent / "shared" / "bench")


def leakscan_cmd() -> str:
    return os.environ.get("LEAKSCAN") or shlex.quote(
        str(Path(sys.executable).with_name("leakscan"))
    )


def commands(
    corpus: Path, inputs: Sequence[str], work: Path
) -> list[tuple[str, str, dict[str, str]]]:
    """(label, shell command, extra environment) of every step, in order."""
    b, ls = bench_dir(), leakscan_cmd()
    tree = f"{ls} scan {{tree}} --format json -o {{out}} -q --show-secrets --no-progress"
    hist = f"{ls} scan --history {{repo}} --format json -o {{out}} -q --show-secrets --no-progress"
    steps = []
    for name in inputs:
        if name == "staged":
            continue
        # tree scans take a fraction of a second, so one slow round moves their median: they get
        # RUNS_TREE rounds (default 7); history scans take seconds to minutes and get RUNS_<name>/RUNS
        runs = os.environ.get(f"RUNS_{name.replace('-', '_')}") or os.environ.get("RUNS", "3")
        for mode, mode_runs in (("tree", os.environ.get("RUNS_TREE", "7")), ("history", runs)):
            env = {"ROWS": PEER_ROWS, "RUNS": mode_runs, "WARMUP": os.environ.get("WARMUP", "1"),
                   "MODES": mode, "BENCH_WORK": str(work),
                   "BENCH_JSON": str(work / f"{name}.{mode}.json")}  # fmt: skip
            cmd = " ".join(
                map(shlex.quote, [str(b / "compare.sh"), str(corpus / name), tree, hist])
            )
            steps.append((f"compare:{name}:{mode}", cmd, env))
    real = [n for n in ("stripe-python", "sqlalchemy") if (corpus / n).is_dir()]
    if "staged" in inputs and real:
        staged = f"cd {{repo}} && {ls} scan --staged --format json -o {{out}} -q"
        cmd = " ".join(map(shlex.quote, [sys.executable, str(b / "latency.py"), str(corpus / real[0]),
                                         "--runs", "20", "--warmup", "3", "--json",
                                         str(work / "staged.json")]))  # fmt: skip
        steps.append(("staged", cmd, {"CANDIDATE": staged, "ROWS": "stripe|python-pass"}))
    return steps


def prepare(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    synth = corpus / "synth"
    if not synth.exists():
        subprocess.run([sys.executable, str(bench_dir() / "gen_synthetic.py"), str(synth), *SYNTH_ARGS],
                       check=True)  # fmt: skip
    for name, url in (("stripe-python", "https://github.com/stripe/stripe-python"),
                      ("sqlalchemy", "https://github.com/sqlalchemy/sqlalchemy")):  # fmt: skip
        if not (corpus / name).exists():
            print(
                f"clone the real input yourself: git clone {url} {corpus / name}", file=sys.stderr
            )


def run(corpus: Path, inputs: Sequence[str], work: Path, dry_run: bool) -> int:
    work.mkdir(parents=True, exist_ok=True)
    steps = commands(corpus, inputs, work)
    log = []
    for label, cmd, env in steps:
        shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + cmd
        print(f"$ {shown}", file=sys.stderr)
        log.append((label, portable(shown, corpus, work)))
        if dry_run:
            continue
        out = work / f"{label.replace(':', '_')}.md"
        with open(out, "w") as fh:
            proc = subprocess.run(
                ["sh", "-c", cmd], env={**os.environ, **env}, stdout=fh, check=False
            )
        if proc.returncode != 0:
            print(f"{label} failed (exit {proc.returncode}); see {out}", file=sys.stderr)
            return 2
    if dry_run:
        return 0
    logfile = work / "commands.json"
    old = json.loads(logfile.read_text()) if logfile.exists() else {}
    logfile.write_text(json.dumps({**old, **dict(log)}, indent=1))
    return render_doc(corpus, inputs, work)


def render_doc(corpus: Path, inputs: Sequence[str], work: Path) -> int:
    logfile = work / "commands.json"
    log = list(json.loads(logfile.read_text()).items()) if logfile.exists() else []
    write_section(DOC, render(corpus, inputs, work, log))
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


def portable(cmd: str, corpus: Path, work: Path) -> str:
    """The command as the doc shows it: no path of this machine."""
    for path, name in ((bench_dir(), "../shared/bench"), (work, "$BENCH_WORK"), (corpus, "$CORPUS"),
                       (Path(leakscan_cmd()).parent, "")):  # fmt: skip
        cmd = cmd.replace(str(path) + "/", f"{name}/" if name else "").replace(str(path), name)
    return cmd.replace(shlex.quote(sys.executable), "python3").replace(sys.executable, "python3")


def ratio(cand: dict, peer: dict) -> float:
    pairs = [a / b for a, b in zip(cand["wall"], peer["wall"]) if b > 0]
    return statistics.median(pairs) if pairs else float("nan")


def table(rows: list[dict], goal: tuple[float, float] | None) -> list[str]:
    cand = next(r for r in rows if r["name"] == "CANDIDATE")
    out = ["| tool | wall s (median, min-max) | CPU s | peak RSS MB | findings | wall ratio leakscan/peer | goal |",
           "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        name = "leakscan" if r is cand else r["name"]
        w = r["wall"]
        cells = [name, f"{statistics.median(w):.2f} ({min(w):.2f}-{max(w):.2f})",
                 f"{statistics.median(r['cpu']):.2f}", f"{statistics.median(r['rss']):.0f}",
                 str(r.get("findings", "-"))]  # fmt: skip
        if r is cand:
            cells += ["1", ""]
        else:
            k = ratio(cand, r)
            limit = goal[0 if r["name"].startswith("gitleaks") else 1] if goal else None
            verdict = (
                ""
                if limit is None
                else (f"≤ {limit} **met**" if k <= limit else f"≤ {limit} NOT met")
            )
            cells += [f"{k:.2f}", verdict]
        out.append("| " + " | ".join(cells) + " |")
    kf = next((r for r in rows if r["name"].startswith("kingfisher")), None)
    if kf:
        mem = statistics.median(cand["rss"]) / statistics.median(kf["rss"])
        verdict = "**met**" if mem <= 0.75 else "NOT met"
        out += ["", f"Peak RSS leakscan/Kingfisher: {mem:.2f} (goal ≤ 0.75: {verdict})"]
    return out


def _results(work: Path, name: str) -> dict | None:
    """One input's results: the tree and history runs' files merged (or one file of both modes)."""
    parts = [work / f"{name}.{mode}.json" for mode in ("tree", "history")]
    found = [json.loads(p.read_text()) for p in parts if p.exists()]
    if not found:
        whole = work / f"{name}.json"
        return json.loads(whole.read_text()) if whole.exists() else None
    return {**found[0], "rows": [row for data in found for row in data["rows"]]}


def render(corpus: Path, inputs: Sequence[str], work: Path, log: list[tuple[str, str]]) -> str:
    lines = [
        BEGIN,
        f"## Side by side (generated by `benchmarks/perf.py run`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
    ]
    lines += [f"Machine: {machine()}", ""]
    for name in inputs:
        data = _results(work, name)
        if name == "staged" or data is None:
            continue
        c = data["corpus"]
        kind = "synth" if name == "synth" else "real"
        lines.append(f"### {name}: {c.get('files')} files ({c.get('bytes', 0) / 1e6:.1f} MB) at HEAD; "
                     f"{c.get('commits', '?')} commits, {c.get('blobs', '?')} blobs "
                     f"({c.get('blob_bytes', 0) / 1e6:.0f} MB)")  # fmt: skip
        lines.append("")
        lines.append("; ".join(f"{k} {v}" for k, v in data.get("versions", {}).items()))
        for mode in ("tree", "history"):
            rows = [r for r in data["rows"] if r["mode"] == mode and r["wall"]]
            if any(r["name"] == "CANDIDATE" for r in rows):
                lines += ["", f"**{mode}**", ""] + table(rows, GOALS.get((mode, kind)))
        if name == "synth":
            lines += ["", "Planted truth (`score_truth.py`, history report):", ""] + truth(
                corpus, work
            )
        lines.append("")
    staged = work / "staged.json"
    if staged.exists():
        data = json.loads(staged.read_text())
        rows = [dict(r, mode="staged") for r in data["rows"] if r["name"] != "ref:python-pass"]
        floor = next((r for r in data["rows"] if r["name"] == "ref:python-pass"), None)
        lines += [f"### pre-commit: one staged file in a clone of {data['repo']}", ""]
        lines += table(rows, GOALS[("staged", "real")])
        if floor:
            lines += [
                "",
                f"`python -c pass` (the floor of any Python tool): {statistics.median(floor['wall']) * 1e3:.0f} ms",
            ]
        lines.append("")
    lines += ["### Commands", "", "```sh"] + [cmd for _label, cmd in log] + ["```", END]
    return "\n".join(lines) + "\n"


def truth(corpus: Path, work: Path) -> list[str]:
    reports = sorted(work.glob("out-synth-*/history.candidate"))
    if not reports:
        return ["(no report)"]
    cmd = [sys.executable, str(bench_dir() / "score_truth.py"), str(corpus / "synth.truth.json"),
           str(reports[0]), "--mode", "history", "--md", "leakscan", "--md-header"]  # fmt: skip
    out = (
        subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip().splitlines()
    )
    return out or ["(score_truth.py printed nothing)"]


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    git = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (f"{os.cpu_count()} CPUs ({model or platform.processor()}), {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, {git}; load average at the end "
            f"{load} (other jobs shared the machine)")  # fmt: skip


def write_section(doc: Path, section: str) -> None:
    text = doc.read_text() if doc.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=("prepare", "run", "render"))
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "corpus")
    ap.add_argument("--inputs", default="synth,stripe-python,sqlalchemy,staged")
    ap.add_argument(
        "--work", type=Path, default=Path(os.environ.get("BENCH_WORK") or "/tmp/leakscan-bench")
    )
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    a = ap.parse_args(argv)
    if not bench_dir().is_dir():
        print(f"no harness at {bench_dir()}; set BENCH_DIR", file=sys.stderr)
        return 2
    if a.step == "prepare":
        prepare(a.corpus)
        return 0
    inputs = [x for x in a.inputs.split(",") if x]
    if a.step == "render":
        return render_doc(a.corpus, inputs, a.work)
    missing = [x for x in inputs if x != "staged" and not (a.corpus / x).is_dir()]
    if missing and not a.dry_run:
        print(f"missing inputs under {a.corpus}: {', '.join(missing)} (run `prepare`, clone the real ones)",
              file=sys.stderr)  # fmt: skip
        return 2
    if shutil.which("git") is None:
        print("git is not on PATH", file=sys.stderr)
        return 2
    return run(a.corpus, inputs, a.work, a.dry_run)


if __name__ == "__main__":
    sys.exit(main())
