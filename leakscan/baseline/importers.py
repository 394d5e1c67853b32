"""Start a baseline from another scanner's output (docs/baseline.md says what maps and what cannot).

- gitleaks JSON report: each result carries the raw `Secret` (unless `--redact` was used). leakscan
  runs its own rules over it and keeps the Stripe keys it classifies itself, keyed by their SHA-256.
- detect-secrets `.secrets.baseline`: only `hashed_secret`, the SHA-1 of what detect-secrets matched,
  which cannot be turned into a SHA-256. So this import needs a scan: a finding of the scan is kept
  when the SHA-1 of its key, or of the 24-character-body prefix detect-secrets' Stripe plugin matches,
  is in the file.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from leakscan.baseline.file import entries_from_findings
from leakscan.errors import BaselineError
from leakscan.findings import from_occurrences
from leakscan.model import BaselineEntry, Blob, Finding
from leakscan.scan.content import scan_blob
from leakscan.settings import Settings

if TYPE_CHECKING:
    from typing import Any

_DETECT_SECRETS_BODY = 24  # detect-secrets' StripeDetector: (r|s)k_live_ + exactly 24 characters
_REDACTED = "REDACTED"
_REDACTED_REASON = "redacted by gitleaks (--redact): no secret to hash"


class Imported(NamedTuple):
    entries: tuple[BaselineEntry, ...]
    total: int  # results in the imported file
    unmapped: tuple[tuple[str, int], ...]  # (reason, count), sorted by reason


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the {what} ({exc.strerror or exc}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BaselineError(
            f"{path}: the {what} is not JSON; pass the file the tool wrote."
        ) from None


def from_gitleaks(doc: Any, settings: Settings, path: Path) -> Imported:
    """Stripe keys in a gitleaks JSON report (`gitleaks detect --report-format json`)."""
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise BaselineError(f"{path}: not a gitleaks JSON report (expected a list of findings).")
    unmapped: Counter[str] = Counter()
    occurrences = []
    for result in doc:
        secret = str(result.get("Secret") or "").strip()
        if not secret or secret == _REDACTED or "..." in secret or "…" in secret:
            unmapped[_REDACTED_REASON] += 1
            continue
        report = scan_blob(settings, Blob("gitleaks report", secret.encode("utf-8")))
        whole = [o for o in report.occurrences if o.secret == secret]
        if not whole:
            unmapped["not a Stripe key leakscan recognises"] += 1
            continue
        occurrences.extend(whole[:1])
    if doc and unmapped[_REDACTED_REASON] == len(doc):
        raise BaselineError(
            f"{path}: every secret in this gitleaks report is redacted (gitleaks --redact), so "
            "there is nothing to hash and no baseline was written; run gitleaks again without "
            "--redact, or run `leakscan baseline` on the repository itself."
        )
    entries = entries_from_findings(from_occurrences(settings.rules, occurrences, settings.allowed))
    return Imported(entries, len(doc), tuple(sorted(unmapped.items())))


def detect_secrets_hashes(doc: Any, path: Path) -> list[str]:
    """Every `hashed_secret` in a detect-secrets baseline, one per result."""
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, dict):
        raise BaselineError(f"{path}: not a detect-secrets baseline (no `results` mapping).")
    return [
        str(item.get("hashed_secret", "")).lower()
        for items in results.values()
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict)
    ]


def from_detect_secrets(doc: Any, findings: Iterable[Finding], path: Path) -> Imported:
    """Findings of this scan whose key detect-secrets already knew (by SHA-1)."""
    hashes = detect_secrets_hashes(doc, path)
    wanted = frozenset(hashes)
    kept = [f for f in findings if sha1_forms(f.secret) & wanted]
    matched = {h for f in kept for h in sha1_forms(f.secret)}
    unmapped = sum(1 for h in hashes if h not in matched)
    reasons = (("no key found by this scan has that SHA-1", unmapped),) if unmapped else ()
    return Imported(entries_from_findings(kept), len(hashes), reasons)


def sha1_forms(secret: str) -> set[str]:
    """SHA-1 of the key, and of the prefix detect-secrets' Stripe plugin would have hashed."""
    forms = {secret}
    prefix_end = secret.rfind("_") + 1
    if (
        secret.startswith(("sk_live_", "rk_live_"))
        and len(secret) - prefix_end > _DETECT_SECRETS_BODY
    ):
        forms.add(secret[: prefix_end + _DETECT_SECRETS_BODY])
    return {hashlib.sha1(s.encode("utf-8"), usedforsecurity=False).hexdigest() for s in forms}
