#!/usr/bin/env python3
"""Regenerate the built-in rule table after editing rules/*.yaml: `python tools/rule_table.py`.

It writes two modules, so that a plain scan parses no YAML and no regex at start-up (~40 ms):
- leakscan/settings/builtin_table.py: the rules as Python literals, without their examples (they
  are key-shaped; the rule files keep them, marked leakscan:allow); documentation samples as SHA-256.
- leakscan/match/pattern_facts.py: each built-in regex's required literals and whether it starts
  at its secret (what match/literals.py would otherwise work out by parsing the pattern, ~7 ms).
tests/test_rules.py fails, naming this command, when either is stale.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from leakscan.match.literals import derive_anchors, derive_starts_with_secret
from leakscan.model import Lookalike, Rule, RuleSet, Severity
from leakscan.settings.builtin import (
    BUILTIN_FILES,
    builtin_documents,
    documents_crc32,
    parse_builtin,
)

TABLE = os.path.join(ROOT, "leakscan", "settings", "builtin_table.py")
FACTS = os.path.join(ROOT, "leakscan", "match", "pattern_facts.py")
COMMAND = "python tools/rule_table.py"


def table_source(rules: RuleSet, crc32: int) -> str:
    """leakscan/settings/builtin_table.py for these rules."""

    def rule(r: Rule) -> str:
        fields = r._replace(examples=(), negative_examples=())._asdict()
        args = "".join(
            f"        {name}=Severity.{value.name},\n"
            if name == "severity"
            else f"        {name}={value!r},\n"
            for name, value in fields.items()
        )
        return f"    Rule(\n{args}    ),\n"

    def lookalike(look: Lookalike) -> str:
        args = ", ".join(
            f"{name}=Severity.{value.name}" if isinstance(value, Severity) else f"{name}={value!r}"
            for name, value in look._asdict().items()
        )
        return f"    Lookalike({args}),\n"

    looks = "".join(lookalike(look) for look in rules.lookalikes)
    return (
        f"{_header()}"
        "from leakscan.model import Lookalike, Placeholders, Rule, RuleSet, Severity\n\n"
        f"SOURCE_CRC32 = {crc32:#010x}\n\n"
        f"RULES = RuleSet(\n  rules=(\n{''.join(rule(r) for r in rules.rules)}  ),\n"
        f"  documentation_sample_hashes=frozenset({sorted(rules.documentation_sample_hashes)!r}),\n"
        f"  sample_note={rules.sample_note!r},\n"
        f"  placeholders={rules.placeholders!r},\n"
        f"  lookalikes=(\n{looks}  ),\n"
        f"  structured_bodies={rules.structured_bodies!r},\n)\n"
    )


def facts_source(rules: RuleSet, crc32: int) -> str:
    """leakscan/match/pattern_facts.py: (required literals, starts at its secret) of each regex."""
    facts = "".join(
        f"    {r.regex!r}: ({_frozen(derive_anchors(r.regex))}, "
        f"{derive_starts_with_secret(r.regex)!r}),  # {r.id}\n"
        for r in rules.rules
    )
    return (
        f"{_header()}"
        f"SOURCE_CRC32 = {crc32:#010x}\n\n"
        "PATTERN_FACTS: dict[str, tuple[frozenset[bytes] | None, bool]] = {\n"
        f"{facts}}}\n"
    )


def _header() -> str:
    files = ", ".join(f"rules/{n}" for n in BUILTIN_FILES)
    return (
        f'"""Generated from {files} by `{COMMAND}`: do not edit (docs/rules.md)."""\n\n# fmt: off\n'
    )


def _frozen(anchors: frozenset[bytes] | None) -> str:
    return "None" if anchors is None else f"frozenset({sorted(anchors)!r})"


def main() -> None:
    documents = builtin_documents()
    rules = parse_builtin(documents)
    crc = documents_crc32(documents)
    for target, text in ((TABLE, table_source(rules, crc)), (FACTS, facts_source(rules, crc))):
        with open(target, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {os.path.relpath(target, ROOT)}")


if __name__ == "__main__":
    main()
