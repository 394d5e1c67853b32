"""The labelled corpus (tests/corpus/spec.py): leakscan keeps recall and precision >= 0.98 per kind."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.accuracy import leakscan_reported, score
from tests import keys
from tests.conftest import run
from tests.corpus import spec

FLOOR = 0.98


def test_corpus_recall_and_precision_per_kind(tmp_path: Path):
    samples = keys.documentation_samples()
    cases = spec.build(samples)
    assert len(cases) >= 200
    truth = json.loads(spec.materialise(cases, tmp_path / "corpus").read_text())
    out = tmp_path / "report.json"
    result = run("scan", str(tmp_path / "corpus"), "--format", "json", "--show-secrets",
                 "--fail-on", "never", "-q", "--no-progress", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    scored = score(
        "leakscan", truth, leakscan_reported(json.loads(out.read_text()), frozenset(samples))
    )
    assert set(scored.by_kind) >= {
        "secret",
        "restricted",
        "publishable",
        "organization",
        "webhook_secret",
    }
    for kind, s in scored.by_kind.items():
        assert s.recall >= FLOOR and s.precision >= FLOOR, (kind, scored.wrong)


def test_documentation_samples_are_info_with_the_note_in_json(tmp_path: Path):
    sample = keys.documentation_samples()[0]
    (tmp_path / "q.py").write_text(f"stripe.api_key = '{sample}'\n")
    result = run(
        "scan", str(tmp_path), "--format", "json", "--fail-on", "never", "-q", "--no-progress"
    )
    (f,) = json.loads(result.stdout)["findings"]
    assert f["severity"] == "info" and "documentation sample" in f["notes"][0]
    # public: nothing to rotate, and no history warning either (it is not a leak)
    assert f["remediation"].startswith("Nothing to rotate") and "Rotate" not in f["remediation"]


def test_scorer_counts_truncation_as_partial_and_extras_as_false_positives():
    truth = {
        "a/x.env": {
            "case": "a",
            "source": "t",
            "expected": [{"kind": "secret", "mode": "live", "value": "sk_" + "live_ABCDEFGH"}],
            "ambiguous": [],
        }
    }
    from benchmarks.accuracy import Reported

    r = score(
        "t",
        truth,
        [Reported("a/x.env", "sk_" + "live_ABCD"), Reported("a/x.env", "pk_" + "test_Q")],
    )
    assert (r.overall.tp, r.overall.fn, r.overall.partial, r.overall.fp) == (0, 1, 1, 1)


def test_lookalikes_are_reported_below_the_default_fail_on_and_stripe_keys_are_not(tmp_path: Path):
    """The corpus's look-alike cases (issue 18): other vendors' keys at `low` with the evidence in the
    notes, placeholders not at all, Stripe-structured keys beside the same evidence at their own
    severity; `scan` with the default --fail-on medium fails only for the Stripe keys."""
    cases = spec.lookalike_cases(spec.Maker(18))
    spec.materialise(cases, tmp_path / "corpus")
    result = run("scan", str(tmp_path / "corpus"), "--format", "json", "--show-secrets",
                 "--fail-on", "never", "-q", "--no-progress")  # fmt: skip
    severity = {
        (loc["path"], f["secret"]): (f["severity"], f["confidence"], f["notes"])
        for f in json.loads(result.stdout)["findings"]
        for loc in f["locations"]
    }
    for case in cases:
        got = {s: v for (path, s), v in severity.items() if path == case.path}
        for value in case.ambiguous:
            sev, confidence, notes = got.pop(value)
            assert (sev, confidence) == ("low", "low") and notes, (case.name, notes)
        for key in case.expected:
            sev, confidence, _ = got.pop(key.value)
            assert (sev, confidence) == (case.severity, "high"), case.name
        assert not got, (case.name, "unexpected findings")
    for case in cases:
        exit_code = run(
            "scan", str(tmp_path / "corpus" / case.path), "-q", "--no-progress"
        ).exit_code
        assert exit_code == (1 if case.expected else 0), case.name
