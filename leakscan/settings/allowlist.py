"""Adding an entry to a config's `allow-secrets` as text, so the file keeps its comments and layout
(`leakscan allow`). Pure: text in, text out; the result is parsed again before it is written."""

from __future__ import annotations

import json
import re

from leakscan.errors import ConfigError
from leakscan.settings.config import parse_config

_KEY = re.compile(r"^allow-secrets[ \t]*:[ \t]*(?P<rest>[^\n]*)$", re.MULTILINE)


def add_allowed(text: str, path: str, digest: str, reason: str) -> str:
    """`text` with `- sha256: DIGEST / reason: REASON` added to its allow-secrets list."""
    match = _KEY.search(text)
    if match is None:
        body = text + ("" if not text or text.endswith("\n") else "\n")
        new = body + "allow-secrets:\n" + _entry("  ", digest, reason)
    else:
        rest = match.group("rest").split("#", 1)[0].strip()
        if rest:  # a flow list (`[a, b]`) or an empty value: rewrite the line as a block list
            new = (
                text[: match.start()] + _as_block(rest, path, digest, reason) + text[match.end() :]
            )
        else:
            new = _append_to_block(text, match.end(), digest, reason)
    _check(new, path, digest)
    return new


def _entry(indent: str, digest: str, reason: str) -> str:
    return (
        f"{indent}- sha256: {digest}\n{indent}  reason: {json.dumps(reason, ensure_ascii=False)}\n"
    )


def _as_block(rest: str, path: str, digest: str, reason: str) -> str:
    import yaml

    try:
        items = yaml.safe_load(rest)
    except yaml.YAMLError:
        items = None
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(_by_hand(path, digest))
    old = "".join(f"  - {json.dumps(i)}\n" for i in items)  # quoted: `- 0000…` is a number
    return ("allow-secrets:\n" + old + _entry("  ", digest, reason)).rstrip("\n")


def _append_to_block(text: str, start: int, digest: str, reason: str) -> str:
    """Insert after the last line of the block list that starts at `start` (the key's line end)."""
    lines = text[start:].split("\n")[1:]
    indent, end, offset = None, start, start + 1
    for line in lines:
        stripped = line.strip()
        part = line.startswith((" ", "\t")) or (line.startswith("-") and indent == "")
        if stripped and not stripped.startswith("#") and not part:
            break
        if stripped and not stripped.startswith("#"):
            if indent is None:
                indent = line[: len(line) - len(line.lstrip())]
            end = offset + len(line)
        offset += len(line) + 1
    entry = _entry(indent if indent is not None else "  ", digest, reason)
    return text[:end] + "\n" + entry.rstrip("\n") + text[end:]


def _check(text: str, path: str, digest: str) -> None:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(_by_hand(path, digest)) from None
    if digest not in parse_config(doc if doc is not None else {}, path).allow_secrets:
        raise ConfigError(_by_hand(path, digest))


def _by_hand(path: str, digest: str) -> str:
    return (f"{path}: cannot add the entry to its allow-secrets automatically; add "
            f"`- sha256: {digest}` with a `reason:` under allow-secrets by hand.")  # fmt: skip
