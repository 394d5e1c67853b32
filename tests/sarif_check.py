"""Validate SARIF against both schemas in ../shared/schemas (every SARIF the suite produces)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ("sarif-schema-2.1.0.json", "sarif-schema-2.1.0.github-codeql-action.json")


def schema_dir() -> Path:
    """`<project root>/../shared/schemas`, or `$LEAKSCAN_SHARED/schemas` (a worktree has no
    shared/ beside it). Missing schemas fail the test: a SARIF check that cannot run is no check."""
    candidates = [ROOT.parent / "shared" / "schemas"]
    if os.environ.get("LEAKSCAN_SHARED"):
        candidates.insert(0, Path(os.environ["LEAKSCAN_SHARED"]) / "schemas")
    for directory in candidates:
        if all((directory / name).is_file() for name in SCHEMAS):
            return directory
    raise AssertionError(
        f"SARIF schemas not found in {' or '.join(map(str, candidates))}; clone the project with "
        "shared/ beside it, or set LEAKSCAN_SHARED to the shared directory."
    )


@cache
def _validators() -> tuple[Any, ...]:
    out = []
    for name in SCHEMAS:
        schema = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
        cls = jsonschema.validators.validator_for(schema)
        out.append(cls(schema))
    return tuple(out)


def assert_valid_sarif(text: str) -> dict[str, Any]:
    """Parse and validate; also the project's own SARIF rules: one run, unique rule ids."""
    doc: dict[str, Any] = json.loads(text)
    for name, validator in zip(SCHEMAS, _validators()):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{name}: " + "; ".join(
            f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]
        )
    assert len(doc["runs"]) == 1
    ids = [rule["id"] for rule in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids)), "duplicate rule ids"
    return doc
