"""Rule files (YAML) -> validated, frozen rules. A bad file raises RuleError naming the file and rule."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from leakscan.errors import RuleError, quoted_names
from leakscan.fingerprint import secret_sha256
from leakscan.match.engine import compile_rule_regex
from leakscan.model import Lookalike, Placeholders, Rule, RuleSet, Severity
from leakscan.sources.files import read_user_file

if TYPE_CHECKING:
    from typing import Any

    from leakscan.model import StrPath

KEY_TYPES = ("secret", "restricted", "publishable", "organization", "webhook_secret", "custom")
GENERIC_REMEDIATION = (
    "Revoke or rotate this credential where it was issued, then move it out of the code into a "
    "secrets vault or an environment variable."
)
_RULE_FIELDS = {
    "id", "title", "description", "key_type", "mode", "severity", "regex", "keywords", "remediation",
    "references", "examples", "negative_examples", "stripe",
}  # fmt: skip
_TOP_FIELDS = {
    "version", "rules", "documentation_samples", "placeholders", "lookalikes", "structured_bodies",
}  # fmt: skip


def load_rule_file(path: StrPath) -> RuleSet:
    """A user rule file, in the same format as `rules/stripe.yaml`."""
    path = os.fspath(path)
    return parse_rule_file(read_user_file(path, "rule file", RuleError), path, builtin=False)


def merge(sets: Iterable[RuleSet]) -> RuleSet:
    """Join rule sets; a rule id defined twice is an error naming both files."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    samples: set[str] = set()
    merged = RuleSet(rules=())
    for rs in sets:
        for rule in rs.rules:
            if rule.id in seen:
                raise RuleError(
                    f"{rule.origin}: rule {rule.id}: the id is already defined in {seen[rule.id]}; "
                    "give the rule a new id."
                )
            seen[rule.id] = rule.origin
            rules.append(rule)
        samples |= rs.documentation_sample_hashes
        merged = merged._replace(
            sample_note=merged.sample_note or rs.sample_note,
            placeholders=rs.placeholders
            if rs.placeholders != Placeholders()
            else merged.placeholders,
            lookalikes=merged.lookalikes + rs.lookalikes,
            structured_bodies=merged.structured_bodies + rs.structured_bodies,
        )
    return merged._replace(rules=tuple(rules), documentation_sample_hashes=frozenset(samples))


def parse_rule_file(text: str, origin: str, *, builtin: bool) -> RuleSet:
    return parse_rule_doc(_yaml_doc(text, origin), origin, builtin=builtin)


def _yaml_doc(text: str, origin: str) -> Any:
    import yaml

    # libyaml's safe loader (in the PyYAML wheels) parses ~6x faster than the pure-Python one and builds
    # the same data; the pure-Python one is the fallback where libyaml is missing.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{origin}: the rule file is not valid YAML{where}.") from None


def parse_rule_doc(doc: Any, origin: str, *, builtin: bool) -> RuleSet:
    """A parsed rule file (YAML or its JSON snapshot) -> validated rules."""
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleError(f"{origin}: expected a mapping with a `rules:` list at the top.")
    unknown = set(doc) - _TOP_FIELDS
    if unknown:
        raise RuleError(f"{origin}: unknown top-level field(s) {quoted_names(unknown)}.")
    rules = tuple(_parse_rule(item, origin, i, builtin) for i, item in enumerate(doc["rules"]))
    samples = doc.get("documentation_samples") or {}
    if not isinstance(samples, dict):
        raise RuleError(
            f"{origin}: `documentation_samples` must be a mapping with `values` and `note`."
        )
    lookalikes = doc.get("lookalikes") or []
    if not isinstance(lookalikes, list):
        raise RuleError(f"{origin}: `lookalikes` must be a list.")
    return RuleSet(
        rules=rules,
        documentation_sample_hashes=frozenset(
            secret_sha256(value)
            for value in _string_list(
                samples.get("values") or [], origin, "documentation_samples.values"
            )
        ),
        sample_note=str(samples.get("note") or ""),
        placeholders=_parse_placeholders(doc.get("placeholders"), origin),
        lookalikes=tuple(_parse_lookalike(item, origin) for item in lookalikes),
        structured_bodies=_parse_structured(doc.get("structured_bodies"), origin),
    )


def _parse_rule(item: Any, origin: str, index: int, builtin: bool) -> Rule:
    if not isinstance(item, dict):
        raise RuleError(f"{origin}: rule #{index + 1} is not a mapping.")
    rule_id = str(item.get("id") or f"#{index + 1}")
    where = f"{origin}: rule {rule_id}"
    unknown = set(item) - _RULE_FIELDS
    if unknown:
        raise RuleError(f"{where}: unknown field(s) {quoted_names(unknown)}.")
    for required in ("id", "title", "severity", "regex", "keywords"):
        if not item.get(required):
            raise RuleError(f"{where}: the field `{required}` is missing or empty.")
    try:
        severity = Severity.parse(str(item["severity"]))
    except ValueError as exc:
        raise RuleError(f"{where}: {exc}.") from None
    key_type = str(item.get("key_type") or "custom")
    if key_type not in KEY_TYPES:
        raise RuleError(f"{where}: key_type must be one of {', '.join(KEY_TYPES)}.")
    mode = item.get("mode")
    if mode not in (None, "live", "test"):
        raise RuleError(f"{where}: mode must be live, test or null.")
    keywords = _string_list(item["keywords"], where, "keywords")
    pattern = str(item["regex"])
    _validate_regex(pattern, where, builtin)
    return Rule(
        id=str(item["id"]),
        title=str(item["title"]),
        description=str(item.get("description") or item["title"]),
        key_type=key_type,
        mode=mode,
        severity=severity,
        regex=pattern,
        keywords=keywords,
        remediation=str(item.get("remediation") or GENERIC_REMEDIATION),
        references=_string_list(item.get("references") or [], where, "references"),
        examples=_string_list(item.get("examples") or [], where, "examples"),
        negative_examples=_string_list(
            item.get("negative_examples") or [], where, "negative_examples"
        ),
        stripe=bool(item.get("stripe", False)),
        origin="builtin" if builtin else origin,
    )


def _validate_regex(pattern: str, where: str, builtin: bool) -> None:
    """Built-in rules run on `re` when it accepts them (see match.py); anything else must suit `regex`."""
    if builtin:
        try:
            re.compile(pattern.encode("utf-8"))
            return
        except re.error:
            pass
    compile_rule_regex(pattern, where)


def _string_list(value: Any, where: str, name: str) -> tuple[str, ...]:
    if (
        isinstance(value, str)
        or not isinstance(value, list)
        or not all(isinstance(v, (str, int, float)) for v in value)
    ):
        raise RuleError(f"{where}: `{name}` must be a list of strings.")
    out = tuple(str(v) for v in value)
    if name == "keywords" and not all(out):
        raise RuleError(f"{where}: `keywords` must not contain an empty string.")
    return out


def _parse_placeholders(value: Any, origin: str) -> Placeholders:
    if value is None:
        return Placeholders()
    if not isinstance(value, dict):
        raise RuleError(f"{origin}: `placeholders` must be a mapping.")
    try:
        return Placeholders(
            max_distinct_characters=int(value.get("max_distinct_characters", 2)),
            max_period=int(value.get("max_period", 4)),
            min_sequential_run=int(value.get("min_sequential_run", 8)),
            min_repeated_run=int(value.get("min_repeated_run", 0)),
            words_anywhere=tuple(str(w).lower() for w in value.get("words_anywhere", ())),
            words_at_start=tuple(str(w).lower() for w in value.get("words_at_start", ())),
        )
    except (TypeError, ValueError):
        raise RuleError(f"{origin}: `placeholders` has a value of the wrong type.") from None


def _parse_lookalike(item: Any, origin: str) -> Lookalike:
    if not isinstance(item, dict) or not {"name", "body", "note"} <= set(item):
        raise RuleError(f"{origin}: each lookalike needs `name`, `body` and `note`.")
    try:
        re.compile(str(item["body"]))  # classify full-matches both with `re`
        re.compile(str(item.get("decoded", "")))
    except (re.error, OverflowError, ValueError, RecursionError) as exc:
        raise RuleError(f"{origin}: lookalike {item['name']}: bad regex: {exc}.") from None
    where = f"{origin}: lookalike {item['name']}"
    hints = tuple(h.lower() for h in _string_list(item.get("hints") or [], where, "hints"))
    if not all(hints):
        raise RuleError(f"{where}: `hints` must not contain an empty string.")
    return Lookalike(
        name=str(item["name"]),
        key_types=_string_list(item.get("key_types") or [], where, "key_types"),
        body=str(item["body"]),
        note=str(item["note"]),
        decoded=str(item.get("decoded", "")),
        reject=bool(item.get("reject", False)),
        hints=hints,
        severity=_lowered_severity(item.get("severity"), where),
    )


def _lowered_severity(value: Any, where: str) -> Severity | None:
    if value is None:
        return None
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise RuleError(f"{where}: {exc}.") from None


def _parse_structured(value: Any, origin: str) -> tuple[str, ...]:
    out = _string_list(value or [], origin, "structured_bodies")
    for regex in out:
        try:
            re.compile(regex)  # classify full-matches each with `re`
        except (re.error, OverflowError, ValueError, RecursionError) as exc:
            raise RuleError(f"{origin}: structured_bodies: bad regex {regex!r}: {exc}.") from None
    return out
