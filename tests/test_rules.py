"""Every built-in rule proves itself with its own examples, and bad rule files fail with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from leakscan.errors import RuleError
from leakscan.match import pattern_facts
from leakscan.match.engine import compile_matcher
from leakscan.scan.content import example_problems
from leakscan.settings import Settings, builtin_table
from leakscan.settings.builtin import (
    builtin_documents,
    documents_crc32,
    load_builtin,
    parse_builtin,
)
from leakscan.settings.rules import load_rule_file
from tests.conftest import run
from tools.rule_table import COMMAND, facts_source, table_source

BUILTIN = parse_builtin()  # with the examples, which the generated table leaves out
SETTINGS = Settings(BUILTIN, compile_matcher(BUILTIN.rules))


@pytest.mark.parametrize("rule", BUILTIN.rules, ids=lambda r: r.id)
def test_builtin_rule_examples(rule):
    assert rule.examples and rule.negative_examples
    assert example_problems(SETTINGS, rule.id) == []


def test_the_generated_tables_are_the_rule_files():
    """builtin_table.py and pattern_facts.py are what tools/rule_table.py writes from rules/*.yaml."""
    docs = builtin_documents()
    crc, rules = documents_crc32(docs), parse_builtin(docs)
    for module, source in ((builtin_table, table_source), (pattern_facts, facts_source)):
        assert module.SOURCE_CRC32 == crc, f"run: {COMMAND}"
        assert Path(module.__file__).read_text(encoding="utf-8") == source(rules, crc), COMMAND
    without_examples = tuple(r._replace(examples=(), negative_examples=()) for r in BUILTIN.rules)
    assert load_builtin() is builtin_table.RULES
    assert load_builtin() == BUILTIN._replace(rules=without_examples)


def test_every_kind_and_mode_has_a_rule():
    got = {(r.key_type, r.mode) for r in BUILTIN.rules}
    kinds = ("secret", "restricted", "publishable", "organization")
    assert got == {(k, m) for k in kinds for m in ("live", "test")} | {("webhook_secret", None)}
    assert len({r.id for r in BUILTIN.rules}) == len(BUILTIN.rules)


def test_rule_example_lines_carry_allow_comment():
    text = (Path(__file__).parent.parent / "rules" / "stripe.yaml").read_text()
    for line in text.splitlines():
        if ("_live_" in line or "_test_" in line or "whsec_" in line) and "regex:" not in line:
            if "keywords:" in line or line.strip().startswith("#"):
                continue
            assert "leakscan:allow" in line, line


@pytest.mark.parametrize(
    "content, message",
    [
        ("rules: [", "not valid YAML at line"),
        ("nothing: 1", "expected a mapping with a `rules:` list"),
        (
            "rules:\n  - id: my.rule\n    title: T\n    severity: high\n    keywords: [x]\n",
            "`regex` is missing",
        ),
        (
            "rules:\n  - id: my.rule\n    title: T\n    severity: high\n    keywords: [x]\n    regex: 'x('\n",
            "rule my.rule: bad regex",
        ),
        (
            "rules:\n  - id: my.rule\n    title: T\n    severity: severe\n    keywords: [x]\n    regex: x\n",
            "unknown severity",
        ),
        (
            "rules:\n  - id: my.rule\n    title: T\n    severity: high\n    keywords: x\n    regex: x\n",
            "`keywords` must be a list",
        ),
        (
            "rules:\n  - id: stripe.secret-key.live\n    title: T\n    severity: high\n    keywords: [x]\n    regex: x\n",
            "already defined",
        ),
        (
            "rules: []\nlookalikes:\n  - {name: V, body: x, note: n, severity: none}\n",
            "lookalike V: unknown severity 'none'",
        ),
        (
            "rules: []\nlookalikes:\n  - {name: V, body: x, note: n, hints: ['']}\n",
            "lookalike V: `hints` must not contain an empty string",
        ),
        ("rules: []\nstructured_bodies: ['51(']\n", "structured_bodies: bad regex '51('"),
    ],
)
def test_bad_rule_file_fails_with_a_sentence(tmp_path, content, message):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    result = run("rules", "check", str(f))
    assert result.exit_code == 2
    assert message in result.stderr
    assert str(f) in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rules_check_accepts_a_good_file_and_reports_failing_examples(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "rules:\n  - id: acme.token\n    title: Acme token\n    severity: high\n"
        "    keywords: [acme_]\n    regex: 'acme_[a-z]{8}'\n    examples: [acme_abcdefgh]\n"
        "    negative_examples: [acme_abc]\n"
    )
    result = run("rules", "check", str(good))
    assert result.exit_code == 0, result.stderr
    assert "1 rule(s) OK" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("[acme_abc]", "[acme_zzzzzzzz]"))
    result = run("rules", "check", str(bad))
    assert result.exit_code == 2
    assert "negative example 1 is matched" in result.stderr


def test_rules_list_names_every_rule():
    result = run("rules", "list")
    assert result.exit_code == 0
    for rule in BUILTIN.rules:
        assert rule.id in result.stdout


def test_user_rule_file_loads(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(
        "rules:\n  - id: a.b\n    title: T\n    severity: low\n    keywords: [k]\n    regex: k+\n"
    )
    rs = load_rule_file(f)
    assert rs.rules[0].id == "a.b" and rs.rules[0].origin == str(f)
    with pytest.raises(RuleError, match="cannot read"):
        load_rule_file(tmp_path / "missing.yaml")
