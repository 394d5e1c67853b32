"""The incremental state of `scan-many --state FILE`: for each repository and ref, the commit the last
successful run scanned up to, so the next run scans only the commits since; and the findings still
open (at HEAD) after it, so the next run reports them again, or says they were fixed.

    {"version": 1, "rules": "<sha256 of the rules>",
     "repositories": {"<absolute path or clone URL>": {"refs/heads/main": "<commit sha>"}},
     "open": [{"rule_id": …, "secret_sha256": …, "preview": …, "locations": [...], …}]}

An open finding is kept as the JSON report shows it, without the raw key (never in the file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from leakscan.atomic import write_atomically
from leakscan.errors import UsageError
from leakscan.model import Confidence, Finding, Location, RuleSet, Severity, Suppression

if TYPE_CHECKING:
    from typing import Any

VERSION = 1
Tips = Mapping[str, str]  # ref name -> commit sha


class State(NamedTuple):
    rules: str = ""  # rules_digest() of the run that wrote it; other rules mean a full rescan
    repositories: Mapping[str, Tips] = MappingProxyType({})
    open: tuple[Finding, ...] = ()  # findings at HEAD after the last run (no raw key)

    def since(self, location: str, rules: str) -> Tips | None:
        """The tips scanned last time, or None: scan the whole history."""
        if self.rules != rules:
            return None
        return self.repositories.get(location)


def rules_digest(rules: RuleSet) -> str:
    """Identity of what a scan looks for: a change of rules makes old commits worth scanning again."""
    text = json.dumps(sorted((r.id, r.regex, sorted(r.keywords)) for r in rules.rules))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_state(path: Path) -> State:
    """A missing file is an empty state (the first run); a malformed one is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State()
    except (OSError, UnicodeDecodeError) as exc:
        detail = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"{path}: cannot read the state file ({detail}).") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: the state file is not valid JSON (line {exc.lineno}); "
                         "delete it to scan every history in full.") from None  # fmt: skip
    return _parse(doc, path)


def _parse(doc: Any, path: Path) -> State:
    ok = isinstance(doc, dict) and doc.get("version") == VERSION
    repos = doc.get("repositories") if ok else None
    if not isinstance(repos, dict) or not all(
        isinstance(tips, dict) and all(isinstance(v, str) for v in tips.values())
        for tips in repos.values()
    ):
        raise UsageError(f"{path}: not a leakscan state file (version {VERSION}); delete it to "
                         "scan every history in full.")  # fmt: skip
    try:
        found = tuple(finding_from(d) for d in doc.get("open", []))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise UsageError(f"{path}: the state file's open findings are malformed; delete it to scan "
                         "every history in full.") from None  # fmt: skip
    return State(str(doc.get("rules", "")), {str(k): dict(v) for k, v in repos.items()}, found)


def updated(
    state: State, rules: str, scanned: Mapping[str, Tips], still_open: tuple[Finding, ...] = ()
) -> State:
    """The state after a run: repositories scanned now get their new tips; the others keep theirs
    (unless the rules changed, which makes every old entry stale). `still_open`: what is open now."""
    kept = dict(state.repositories) if state.rules == rules else {}
    kept.update({loc: dict(tips) for loc, tips in scanned.items()})
    return State(rules, kept, still_open)


def save_state(path: Path, state: State) -> None:
    """Temp file + rename: an interrupted run leaves the previous state intact."""
    doc = {
        "version": VERSION,
        "rules": state.rules,
        "repositories": {k: dict(sorted(v.items())) for k, v in sorted(state.repositories.items())},
        "open": [finding_record(f) for f in state.open],
    }
    if path.exists() and not path.is_file():
        raise UsageError(f"{path}: the state file must be a regular file.")
    write_atomically(path, json.dumps(doc, indent=2) + "\n", "state file")


def finding_record(f: Finding) -> dict[str, Any]:
    """What the state keeps of an open finding: everything a report shows, never the raw key."""
    return {
        "rule_id": f.rule_id, "key_type": f.key_type, "mode": f.mode,
        "severity": f.severity.label, "confidence": f.confidence.value,
        "secret_sha256": f.secret_sha256, "preview": f.preview, "remediation": f.remediation,
        "context": list(f.context), "notes": list(f.notes),
        "suppressed": None if f.suppressed is None else list(f.suppressed),
        "locations": [loc._asdict() for loc in f.locations],
    }  # fmt: skip


def finding_from(d: Mapping[str, Any]) -> Finding:
    """A remembered open finding; raises KeyError, TypeError or ValueError when malformed."""
    locations = tuple(
        Location(**{k: v for k, v in loc.items() if k in Location._fields})
        for loc in d["locations"]
    )
    if not all(isinstance(loc.path, str) and isinstance(loc.line, int) for loc in locations):
        raise ValueError("bad location")
    suppressed = d.get("suppressed")
    return Finding(
        rule_id=str(d["rule_id"]), key_type=str(d["key_type"]), mode=d.get("mode"),
        severity=Severity.parse(str(d["severity"])), confidence=Confidence(d["confidence"]),
        secret_sha256=str(d["secret_sha256"]), preview=str(d["preview"]), present_at_head=True,
        locations=locations, remediation=str(d["remediation"]),
        context=tuple(map(str, d.get("context", ()))), notes=tuple(map(str, d.get("notes", ()))),
        suppressed=None if suppressed is None else Suppression(*map(str, suppressed)),
    )  # fmt: skip
