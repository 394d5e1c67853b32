"""Reading one file safely: never follow a link, never block on a FIFO or device, never raise."""

from __future__ import annotations

import os
import stat

from leakscan.model import Blob, Skipped

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
        chunks = []
        remaining = max_size + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 22))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        return Skipped(shown, f"unreadable: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(data) > max_size:
        return Skipped(shown, f"larger than --max-file-size ({human_size(max_size)})")
    return Blob(shown, data)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def display_path(raw: str) -> str:
    """A path as reports show it: undecodable bytes as \\xNN, always `/` separators."""
    shown = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return shown.replace(os.sep, "/") if os.sep != "/" else shown
