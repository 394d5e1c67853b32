"""The baseline file (DESIGN §6): known secrets by `secret_sha256` + rule id, deterministic JSON.

No line numbers, commits, paths, timestamps or tool versions go in, so re-running `leakscan baseline`
on an unchanged repository writes the same bytes, and edits, moves and rebases do not churn the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from leakscan.errors import BaselineError
from leakscan.model import BaselineEntry, Finding

if TYPE_CHECKING:
    from typing import Any

    from leakscan.model import StrPath

FILE_NAME = ".leakscan-baseline.json"
FORMAT_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REGENERATE = "regenerate it with `leakscan baseline`"
VERDICTS = ("true positive", "false positive", "accepted risk")


def entries_from_findings(findings: Iterable[Finding]) -> tuple[BaselineEntry, ...]:
    """What a baseline records: every finding not already suppressed inline or by the config."""
    return sorted_entries(
        BaselineEntry(f.rule_id, f.secret_sha256, f.key_type, f.mode, f.preview)
        for f in findings
        if f.suppressed is None or f.suppressed.kind == "baseline"
    )


def sorted_entries(entries: Iterable[BaselineEntry]) -> tuple[BaselineEntry, ...]:
    """One entry per (rule id, secret), sorted: the order never depends on where a key was found."""
    unique: dict[tuple[str, str], BaselineEntry] = {}
    for e in entries:
        unique.setdefault((e.rule_id, e.secret_sha256), e)
    return tuple(unique[k] for k in sorted(unique))


def render(entries: Iterable[BaselineEntry]) -> str:
    doc = {
        "version": FORMAT_VERSION,
        "tool": "leakscan",
        "note": "Known secrets, by SHA-256 of the key and rule id; never the keys themselves. "
        "Made by `leakscan baseline`.",
        "entries": [_entry_doc(e) for e in sorted_entries(entries)],
    }
    import json  # baseline files only: a scan without one does without

    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _entry_doc(e: BaselineEntry) -> dict[str, object]:
    """An entry as JSON; `verdict` and `reason` only once audited, so older files stay as they were."""
    doc: dict[str, object] = {"rule_id": e.rule_id, "secret_sha256": e.secret_sha256,
                              "key_type": e.key_type, "mode": e.mode, "preview": e.preview}  # fmt: skip
    if e.verdict:
        doc["verdict"] = e.verdict
    if e.reason:
        doc["reason"] = e.reason
    return doc


def with_verdicts(
    entries: Iterable[BaselineEntry], earlier: Iterable[BaselineEntry]
) -> tuple[BaselineEntry, ...]:
    """`entries` keeping the verdicts an earlier audit recorded for the same (rule, secret)."""
    audited = {(e.rule_id, e.secret_sha256): e for e in earlier if e.verdict}
    return tuple(
        e._replace(verdict=old.verdict, reason=old.reason)
        if (old := audited.get((e.rule_id, e.secret_sha256)))
        else e
        for e in entries
    )


def load(path: StrPath) -> tuple[BaselineEntry, ...]:
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise BaselineError(
            f"{path}: cannot read the baseline file ({exc.strerror or exc})."
        ) from None
    except UnicodeDecodeError:
        raise BaselineError(
            f"{path}: the baseline file is not UTF-8 JSON; {_REGENERATE}."
        ) from None
    import json

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{path}: the baseline file is not valid JSON (line {exc.lineno}); {_REGENERATE}."
        ) from None
    except RecursionError:  # a hostile file of deeply nested arrays: json's C parser gives up
        raise BaselineError(
            f"{path}: the baseline file is nested too deeply to be a baseline; {_REGENERATE}."
        ) from None
    return parse(doc, path)


def parse(doc: Any, path: StrPath) -> tuple[BaselineEntry, ...]:
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise BaselineError(f"{path}: not a leakscan baseline (no `entries` list); {_REGENERATE}.")
    if doc.get("version") != FORMAT_VERSION:
        raise BaselineError(
            f"{path}: baseline format version {doc.get('version')!r} is not supported "
            f"(expected {FORMAT_VERSION}); {_REGENERATE}."
        )
    out = []
    for i, item in enumerate(doc["entries"], 1):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("rule_id"), str)
            and isinstance(item.get("secret_sha256"), str)
            and _SHA256.fullmatch(item["secret_sha256"])
        ):
            raise BaselineError(
                f"{path}: baseline entry {i} needs a `rule_id` and a lower-case hex `secret_sha256`; "
                f"{_REGENERATE}."
            )
        mode = item.get("mode")
        out.append(
            BaselineEntry(
                item["rule_id"],
                item["secret_sha256"],
                str(item.get("key_type") or ""),
                str(mode) if mode is not None else None,
                str(item.get("preview") or ""),
                _verdict(item.get("verdict"), path, i),
                str(item.get("reason") or ""),
            )
        )
    return tuple(out)


def _verdict(value: object, path: StrPath, i: int) -> str:
    if value in (None, ""):
        return ""
    if value not in VERDICTS:
        raise BaselineError(f"{path}: baseline entry {i} has verdict {str(value)[:40]!r}; a verdict "
                            f"is one of {', '.join(VERDICTS)} (`leakscan baseline --audit`).")  # fmt: skip
    return str(value)


def keys(entries: Iterable[BaselineEntry]) -> frozenset[tuple[str, str]]:
    """The (rule_id, secret_sha256) pairs `Settings.baseline` holds."""
    return frozenset((e.rule_id, e.secret_sha256) for e in entries)


def stale(
    entries: Iterable[BaselineEntry], findings: Iterable[Finding]
) -> tuple[BaselineEntry, ...]:
    """Baseline entries that no finding of this scan matches (rotated and removed, or moved out)."""
    found = {(f.rule_id, f.secret_sha256) for f in findings}
    return tuple(e for e in sorted_entries(entries) if (e.rule_id, e.secret_sha256) not in found)
