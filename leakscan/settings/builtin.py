"""The rules shipped in the package: the generated table while it matches rules/*.yaml, else the files."""

from __future__ import annotations

import os

from leakscan.errors import RuleError
from leakscan.model import RuleSet
from leakscan.settings import builtin_table
from leakscan.settings.rules import merge, parse_rule_file

BUILTIN_FILES = ("stripe.yaml",)


def load_builtin() -> RuleSet:
    """The rules shipped in the package. They come from `builtin_table.py`, a table generated from the
    rule files (no YAML parser to import, no regex to validate: ~40 ms less per run), as long as the
    files are the ones it was generated from; otherwise from the files themselves."""
    docs = builtin_documents()
    if builtin_table.SOURCE_CRC32 == documents_crc32(docs):
        return builtin_table.RULES
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
