"""Rule files (YAML) -> validated, frozen rules. A bad file raises RuleError naming the file and rule."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from leakscan.errors import RuleError, quoted_names
from leakscan.fingerprint import secret_sha256
from leakscan.model import Lookalike, Placeholders, Rule, RuleSet, Severity
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from leakscan.model import StrPath

BUILTIN_FILES = ("stripe.yaml",)
KEY_TYPES = ("secret", "restricted", "publishable", "organization", "webhook_secret", "custom")
GENERIC_REMEDIATION = (
    "Revoke or rotate this credential where it was issued, then move it out of the code into a "
    "secrets vault or an environment variable."
)
_RULE_FIELDS = {
    "id", "title", "description", "key_type", "mode", "severity", "regex", "keywords", "remediation",
    "references", "examples", "negative_examples", "stripe",
}  # fmt: skip
_TOP_FIELDS = {"version", "rules", "documentation_samples", "placeholders", "lookalikes"}


def load_builtin() -> RuleSet:
    """The rules shipped in the package. They come from `builtin_rules.py`, a table generated from the
    rule files (no YAML parser to import, no regex to validate: ~40 ms less per run), as long as the
    files are the ones it was generated from; otherwise from the files themselves."""
    from leakscan.settings import builtin_table as builtin_rules

    docs = builtin_documents()
    if builtin_rules.SOURCE_CRC32 == documents_crc32(docs):
        return builtin_rules.RULES
    return parse_builtin(docs)


def parse_builtin(docs: list[tuple[str, str]] | None = None) -> RuleSet:
    """The built-in rule files parsed (with their examples, which the table leaves out)."""
    docs = builtin_documents() if docs is None else docs
    return merge(parse_rule_file(text, origin, builtin=True) for origin, text in docs)


def builtin_documents() -> list[tuple[str, str]]:
    """(origin, text) of each built-in rule file."""
    return [(f"rules/{name}", _package_data(name)) for name in BUILTIN_FILES]


def documents_crc32(docs: list[tuple[str, str]]) -> int:
    """Tells whether the rule files changed since the table was generated (not a security check:
    whoever can edit the installed rule files can edit the table too)."""
    import zlib

    crc = 0
    for origin, text in docs:
        crc = zlib.crc32(f"{origin}\0{text}\0".encode(), crc)
    return crc


def _package_data(name: str) -> str:
    package = __import__("leakscan.rules", fromlist=["rules"])  # a data package, unknown to mypy

    # The file next to the package's __init__ (wheel, sdist and editable installs all have one);
    # pkgutil reads it through the loader otherwise (a zip), at ~20 ms of imports.
    try:
        with open(os.path.join(os.path.dirname(package.__file__ or ""), name), "rb") as fh:
            data: bytes | None = fh.read()
    except OSError:
        import pkgutil

        data = pkgutil.get_data("leakscan.rules", name)
    if data is None:  # a loader that cannot read data: a broken installation
        raise RuleError(f"rules/{name}: the built-in rule file is missing; reinstall leakscan.")
    return data.decode("utf-8")


def load_rule_file(path: StrPath) -> RuleSet:
    """A user rule file, in the same format as `rules/stripe.yaml`."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise RuleError(f"{path}: cannot read the rule file ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise RuleError(f"{path}: the rule file is not UTF-8 text.") from None
    return parse_rule_file(text, path, builtin=False)


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


def compile_rule_regex(pattern: str, where: str) -> Any:
    """Rules match bytes: non-ASCII literals in a pattern match their UTF-8 encoding (a regex.Pattern)."""
    import regex

    try:
        return regex.compile(pattern.encode("utf-8"))
    except (OverflowError, ValueError, RecursionError) as exc:
        raise RuleError(f"{where}: bad regex: {exc}.") from None
    except regex.error as exc:
        pos = f" at {exc.pos}" if getattr(exc, "pos", None) is not None else ""
        raise RuleError(
            f"{where}: bad regex{pos}: {exc.msg if hasattr(exc, 'msg') else exc}."
        ) from None


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
    return Lookalike(
        name=str(item["name"]),
        key_types=_string_list(item.get("key_types") or [], where, "key_types"),
        body=str(item["body"]),
        note=str(item["note"]),
        decoded=str(item.get("decoded", "")),
        reject=bool(item.get("reject", False)),
    )


def table_source(rules: RuleSet, crc32: int) -> str:
    """`builtin_rules.py` for these rules: Python literals, no examples (they are key-shaped; the
    rule files keep them, marked leakscan:allow), documentation samples as their SHA-256."""
    from leakscan.match.literals import derive_anchors, derive_starts_with_secret

    def rule(r: Rule) -> str:
        fields = r._replace(examples=(), negative_examples=())._asdict()
        args = "".join(
            f"        {name}=Severity.{value.name},\n"
            if name == "severity"
            else f"        {name}={value!r},\n"
            for name, value in fields.items()
        )
        return f"    Rule(\n{args}    ),\n"

    looks = "".join(f"    {look!r},\n" for look in rules.lookalikes)
    facts = "".join(
        f"    ({_frozen(derive_anchors(r.regex))}, {derive_starts_with_secret(r.regex)!r}),"
        f"  # {r.id}\n"
        for r in rules.rules
    )
    return (
        f'"""Generated from {", ".join(f"rules/{n}" for n in BUILTIN_FILES)} by '
        '`python -m leakscan.settings.rules`: do not edit (docs/rules.md)."""\n\n'
        "# fmt: off\n"
        "from leakscan.model import Lookalike, Placeholders, Rule, RuleSet, Severity\n\n"
        f"SOURCE_CRC32 = {crc32:#010x}\n\n"
        f"RULES = RuleSet(\n  rules=(\n{''.join(rule(r) for r in rules.rules)}  ),\n"
        f"  documentation_sample_hashes=frozenset({sorted(rules.documentation_sample_hashes)!r}),\n"
        f"  sample_note={rules.sample_note!r},\n"
        f"  placeholders={rules.placeholders!r},\n"
        f"  lookalikes=(\n{looks}  ),\n)\n\n"
        "# (anchors, starts_with_secret) of each rule's regex (anchors.py): no scan parses them\n"
        "PATTERN_FACTS: dict[str, tuple[frozenset[bytes] | None, bool]] = dict(zip(\n"
        f"  (r.regex for r in RULES.rules), (\n{facts}  ),\n))\n"
    )


def _frozen(anchors: frozenset[bytes] | None) -> str:
    return "None" if anchors is None else f"frozenset({sorted(anchors)!r})"


if __name__ == "__main__":  # regenerate leakscan/builtin_rules.py after editing rules/*.yaml
    documents = builtin_documents()
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin_rules.py")
    with open(target, "w", encoding="utf-8") as out:
        out.write(table_source(parse_builtin(documents), documents_crc32(documents)))
    print(f"wrote {target}")
