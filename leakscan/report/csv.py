"""CSV (`--format csv`): a header row, then one row per location of every finding, suppressed ones
included (the `suppressed` column says how). The raw key only with --show-secrets, in a last
`secret` column."""

from __future__ import annotations

import csv
import io

from leakscan.model import Finding, Location, RuleSet, ScanResult
from leakscan.report.options import RenderOptions

FIELDS = ("rule_id", "severity", "key_type", "mode", "preview", "secret_sha256", "path", "line",
          "column", "commit", "author_date", "encoding", "suppressed")  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a cell a spreadsheet would run as a formula


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS + (("secret",) if options.show_secrets else ()))
    for f in result.findings:
        for loc in f.locations:
            row = _row(f, loc) + ([f.secret] if options.show_secrets else [])
            writer.writerow([defuse(cell) for cell in row])
    return out.getvalue()


def _row(f: Finding, loc: Location) -> list[str]:
    return [
        f.rule_id,
        f.severity.label,
        f.key_type,
        f.mode or "",
        f.preview,
        f.secret_sha256,
        loc.path,
        str(loc.line),
        str(loc.column),
        loc.commit or "",
        loc.author_date or "",
        loc.encoding,
        f.suppressed.kind if f.suppressed else "",
    ]


def defuse(cell: str) -> str:
    """A path from a scanned repository is untrusted: `=HYPERLINK(...)` must stay text when the
    report is opened in a spreadsheet (OWASP's CSV injection advice: a leading `'`)."""
    return "'" + cell if cell.startswith(_FORMULA) else cell
