"""docs/security.md and the tests stay in step: every test it names exists, every matrix test is named."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "security.md").read_text()


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
    }


def test_every_test_named_in_the_doc_exists():
    named = set(re.findall(r"\btest_\w+", DOC)) - {
        p.stem for p in (ROOT / "tests").glob("test_*.py")
    }
    defined = set().union(*(_tests_in(p) for p in (ROOT / "tests").glob("test_*.py")))
    assert named - defined == set()


def test_every_bad_input_test_is_a_row_of_the_matrix():
    assert (
        _tests_in(ROOT / "tests" / "test_bad_inputs.py") - set(re.findall(r"`(test_\w+)`", DOC))
        == set()
    )
