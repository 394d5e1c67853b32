"""JUnit XML (`--format junit`) for CI test-report views: one testsuite, one testcase per finding. An
unsuppressed finding at or above --fail-on has a <failure>, a suppressed one <skipped>, the rest
pass (their details in <system-out>). Never a raw key, not even with --show-secrets: CI systems publish test reports widely."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from leakscan.findings import failing
from leakscan.model import Finding, RuleSet, ScanResult
from leakscan.report.options import RenderOptions

# Characters XML 1.0 cannot hold, even escaped; a file name from a scanned repository may have them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_LOCATIONS = 100  # per failure text; the rest are counted


def render(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    failed = set(failing(result.findings, options.fail_on))
    suite = ET.Element("testsuite", name="leakscan", tests=str(len(result.findings)),
                       failures=str(len(failed)), errors="0",
                       skipped=str(sum(f.suppressed is not None for f in result.findings)))  # fmt: skip
    for f in result.findings:
        suite.append(_case(f, rules, f in failed))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _case(f: Finding, rules: RuleSet, failed: bool) -> ET.Element:
    first = f.locations[0]
    title = rules.rule(f.rule_id).title
    case = ET.Element("testcase", classname=clean(f.rule_id),
                      name=clean(f"{title} {f.preview} at {first.path}:{first.line}"),
                      file=clean(first.path), line=str(first.line))  # fmt: skip
    if f.suppressed is not None:
        reason = f"suppressed ({f.suppressed.kind}): {f.suppressed.reason}"
        ET.SubElement(case, "skipped", message=clean(reason))
    elif failed:
        message = f"{title} {f.preview} ({f.severity.label})"
        failure = ET.SubElement(case, "failure", message=clean(message), type=f.severity.label)
        failure.text = clean(_details(f))
        return case
    ET.SubElement(case, "system-out").text = clean(_details(f))  # passed or skipped: still listed
    return case


def _details(f: Finding) -> str:
    lines = []
    for loc in f.locations[:MAX_LOCATIONS]:
        where = f"{loc.path}:{loc.line}:{loc.column}"
        if loc.commit:
            where += f" commit {loc.commit[:12]}"
        lines.append(f"at {where}")
    if len(f.locations) > MAX_LOCATIONS:
        lines.append(f"... and {len(f.locations) - MAX_LOCATIONS} more place(s)")
    lines.append(f"secret_sha256: {f.secret_sha256}")
    lines.append(f"what to do: {f.remediation}")
    return "\n".join(lines)


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
