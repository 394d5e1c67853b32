"""The repositories of an organisation-wide scan: a list file, or a directory of repositories."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from leakscan.errors import SourceError
from leakscan.model import masked_repr

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[^/\s]+@[^/\s]+:")  # scheme://… or user@host:path
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:)[^/@]*@")


class RepoSpec(NamedTuple):
    """One repository to scan.

    name: how reports and errors name it (the list line, any password in a URL masked, or the
        sub-directory's name).
    location: an absolute path, or a clone URL exactly as written.
    """

    name: str
    location: str  # a URL may carry a credential

    def __repr__(self) -> str:
        return masked_repr(self, "location")

    @property
    def is_url(self) -> bool:
        return bool(_URL.match(self.location))

    @property
    def key(self) -> str:
        """What the state file knows it by: the absolute path, or the URL without its password."""
        return self.name if self.is_url else self.location


def read_source(source: Path) -> tuple[RepoSpec, ...]:
    """A list file (one path or clone URL a line, `#` comments) or a directory of repositories."""
    if source.is_dir():
        return _from_directory(source)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{source}: no such file or directory; name a list file or a directory "
                          "of repositories.") from None  # fmt: skip
    except (OSError, UnicodeDecodeError) as exc:
        detail = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise SourceError(f"{source}: cannot read the repository list ({detail}).") from None
    specs = parse_list(text, source.parent.resolve())
    if not specs:
        raise SourceError(f"{source}: the repository list names no repository.")
    return specs


def parse_list(text: str, base: Path) -> tuple[RepoSpec, ...]:
    """Lines of paths (relative to `base`) or clone URLs; blank lines and `#` comments ignored;
    a repository named twice is scanned once."""
    seen: dict[str, RepoSpec] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if _URL.match(line):
            spec = RepoSpec(without_password(line), line)
        else:
            spec = RepoSpec(line, _absolute(base, line))
        seen.setdefault(spec.location, spec)
    return tuple(seen.values())


def without_password(url: str) -> str:
    """`https://user:token@host/x` -> `https://user:***@host/x`: reports never carry a credential."""
    return _PASSWORD.sub(r"\1***@", url)


def _absolute(base: Path, line: str) -> str:
    return os.path.normpath(base / os.path.expanduser(line))


def _from_directory(top: Path) -> tuple[RepoSpec, ...]:
    """Each sub-directory is a repository (a working tree or a bare `*.git` directory)."""
    if (top / ".git").exists() or ((top / "HEAD").is_file() and (top / "objects").is_dir()):
        raise SourceError(f"{top} is a repository itself; scan it with `leakscan scan --history`, or "
                          "name the directory that holds the repositories.")  # fmt: skip
    try:
        entries = sorted(
            (e for e in os.scandir(top) if e.is_dir() and not e.name.startswith(".")),
            key=lambda e: e.name,
        )
    except OSError as exc:
        raise SourceError(f"{top}: cannot list the directory ({exc.strerror or exc}).") from None
    specs = tuple(RepoSpec(e.name, str(Path(e.path).resolve())) for e in entries)
    if not specs:
        raise SourceError(f"{top}: the directory has no sub-directories to scan as repositories.")
    return specs
