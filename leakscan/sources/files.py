"""Reading one file safely: never follow a link, never block on a FIFO or device, never raise."""

from __future__ import annotations

import os
import stat

from leakscan.errors import LeakscanError
from leakscan.model import Blob, Skipped
from leakscan.units import human_size

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0)
KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def read_file(path: str, shown: str, max_size: int, follow: bool = False) -> Blob | Skipped | None:
    """The file's bytes as a Blob; Skipped with the reason; None for a symlink not to be followed."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError as exc:
        return Skipped(shown, f"unreadable: {exc.strerror or exc}")
    if stat.S_ISLNK(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        return Skipped(shown, f"not a regular file ({kind})")
    if st.st_size > max_size:
        return Skipped(shown, f"larger than --max-file-size ({human_size(max_size)})")
    flags = _FLAGS & ~getattr(os, "O_NOFOLLOW", 0) if follow else _FLAGS
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return Skipped(shown, f"unreadable: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between lstat and open
            return Skipped(shown, "not a regular file")
        data = _read_all(fd, st.st_size, max_size)
    except OSError as exc:
        return Skipped(shown, f"unreadable: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(data) > max_size:
        return Skipped(shown, f"larger than --max-file-size ({human_size(max_size)})")
    return Blob(shown, data)


def _read_all(fd: int, size: int, max_size: int) -> bytes:
    """Up to max_size + 1 bytes, read to the end. The first read asks for the size fstat gave, the
    next (which almost always finds the end) for 64 KiB: asking for 4 MiB each time allocated and
    shrank a 4 MiB buffer per file, which made reading sqlalchemy's tree take twice as long
    (docs/performance.md). A file that grew since, or a short read, is read on in 4 MiB chunks."""
    chunks = [os.read(fd, min(size, max_size) + 1)]
    total, step = len(chunks[0]), 1 << 16
    while chunks[-1] and total <= max_size:
        chunks.append(os.read(fd, min(max_size + 1 - total, step)))
        total += len(chunks[-1])
        step = 1 << 22
    return chunks[0] if len(chunks) <= 2 and not chunks[-1] else b"".join(chunks)


def read_user_file(path: str, what: str, error: type[LeakscanError]) -> str:
    """A config or rule file the user named, as text; what goes wrong is `error`, one sentence."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise error(f"{path}: the {what} is not UTF-8 text.") from None
