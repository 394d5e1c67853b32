"""Writing an output file so that an interrupted run never leaves a truncated one behind."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from leakscan.errors import UsageError

if TYPE_CHECKING:
    from leakscan.model import StrPath


def write_atomically(path: StrPath, text: str, what: str = "report") -> None:
    """Temp file + rename. A target that exists and is not a regular file (`-o /dev/null`, a FIFO)
    is written in place, never replaced."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isfile(path):
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"{path}: cannot write the {what} ({exc.strerror or exc}).") from None
        return
    directory, name = os.path.split(path)
    try:
        fd, tmp = _new_file(directory or ".", f".{name}.")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the {what} ({exc.strerror or exc}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _new_file(directory: str, prefix: str) -> tuple[int, str]:
    """A new file of our own next to the target, as `tempfile.mkstemp` makes it (O_EXCL, mode 0600),
    without `tempfile`'s imports (~9 ms of a pre-commit run)."""
    for _ in range(100):
        name = os.path.join(directory, prefix + os.urandom(6).hex())
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")
