"""Writing an output file so that an interrupted run never leaves a truncated one behind."""

from __future__ import annotations

import os
from pathlib import Path

from leakscan.errors import UsageError


def write_atomically(path: Path, text: str, what: str = "report") -> None:
    """Temp file + rename. A target that exists and is not a regular file (`-o /dev/null`, a FIFO)
    is written in place, never replaced."""
    if path.exists() and not path.is_file():
        try:
            with path.open("w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"{path}: cannot write the {what} ({exc.strerror or exc}).") from None
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        import tempfile  # only a run that writes a file pays for it

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the {what} ({exc.strerror or exc}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
