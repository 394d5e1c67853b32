"""The `rules` commands: list the rules, and check rule files against their own examples."""

from __future__ import annotations

from leakscan.cli.console import EXIT_CLEAN, EXIT_ERROR, echo
from leakscan.match.engine import compile_matcher
from leakscan.scan.content import example_problems
from leakscan.settings import Settings, load_rules
from leakscan.settings.builtin import load_builtin
from leakscan.settings.rules import load_rule_file, merge


def list_rules(rule_files: tuple[str, ...]) -> int:
    """Every rule: id, key type, mode, severity, title."""
    rs = load_rules(rule_files)
    rows = [(r.id, r.key_type, r.mode or "-", r.severity.label, r.title) for r in rs.rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])
    return EXIT_CLEAN


def check_rules(files: tuple[str, ...]) -> int:
    """Each file must parse, and each of its rules must match its examples and no negative one."""
    failed = False
    for name in files:
        user = load_rule_file(name)
        rs = merge([load_builtin(), user])
        settings = Settings(rs, compile_matcher(rs.rules))
        problems = [p for r in user.rules for p in example_problems(settings, r.id)]
        for p in problems:
            echo(f"{name}: {p}", err=True)
        failed |= bool(problems)
        if not problems:
            echo(f"{name}: {len(user.rules)} rule(s) OK")
    return EXIT_ERROR if failed else EXIT_CLEAN
