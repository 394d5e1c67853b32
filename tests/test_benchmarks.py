"""The benchmark driver's pieces run (dry mode, table, doc section) without timing anything."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "perf.py"


def _module():
    spec = importlib.util.spec_from_file_location("perf_bench", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dry_run_prints_every_command(tmp_path):
    (tmp_path / "c" / "stripe-python").mkdir(
        parents=True
    )  # a real input: the pre-commit step uses it
    env = {"BENCH_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "LEAKSCAN": "leakscan"}
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "run", "--dry-run", "--corpus", str(tmp_path / "c"),
         "--inputs", "synth,stripe-python,staged", "--work", str(tmp_path / "w")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("$ ")]
    assert len(lines) == 5  # tree and history rounds of each input apart, then the staged scan
    assert "MODES=tree" in lines[0] and "RUNS=7" in lines[0] and "synth.tree.json" in lines[0]
    assert (
        "MODES=history" in lines[1] and "scan --history {repo}" in lines[1] and "RUNS=" in lines[1]
    )
    assert "latency.py" in lines[4] and "scan --staged" in lines[4]


def test_an_inputs_tree_and_history_results_are_read_as_one(tmp_path):
    import json

    perf = _module()
    corpus = {"files": 3}
    for mode in ("tree", "history"):
        rows = [{"name": "CANDIDATE", "mode": mode, "wall": [1.0]}]
        (tmp_path / f"x.{mode}.json").write_text(json.dumps({"corpus": corpus, "rows": rows}))
    data = perf._results(tmp_path, "x")
    assert data["corpus"] == corpus and [r["mode"] for r in data["rows"]] == ["tree", "history"]
    assert perf._results(tmp_path, "missing") is None


def test_table_marks_goals_and_section_replaces_the_old_one(tmp_path):
    perf = _module()
    rows = [
        {
            "name": "CANDIDATE",
            "wall": [1.0, 2.0],
            "cpu": [1.0, 1.0],
            "rss": [50, 50],
            "findings": 3,
        },
        {
            "name": "gitleaks:stripe",
            "wall": [10.0, 10.0],
            "cpu": [9, 9],
            "rss": [80, 80],
            "findings": 3,
        },
        {
            "name": "kingfisher:stripe4",
            "wall": [1.0, 1.0],
            "cpu": [2, 2],
            "rss": [90, 90],
            "findings": 3,
        },
    ]
    lines = perf.table(rows, (0.2, 1.5))
    assert "| leakscan | 1.50 (1.00-2.00) |" in lines[2]
    assert lines[3].endswith("| 0.15 | ≤ 0.2 **met** |")
    assert lines[4].endswith("| 1.50 | ≤ 1.5 **met** |")
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nkept\n\n{perf.BEGIN}\nold\n{perf.END}\n\ntail\n")
    perf.write_section(doc, f"{perf.BEGIN}\nnew\n{perf.END}\n")
    assert doc.read_text() == f"# Performance\n\nkept\n\n{perf.BEGIN}\nnew\n{perf.END}\n\ntail\n"
