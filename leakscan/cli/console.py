"""The terminal: the one place that writes to stdout/stderr and maps errors to exit codes (DESIGN §7).

Both entry points use it: the click CLI (`cli.py`) and the click-free `scan` of `main.py`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from leakscan.errors import LeakscanError
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Write text and flush (a progress line must show at once); text a stream cannot encode is never
    an error. A stream that claims ASCII (a misconfigured locale) gets UTF-8, as click does."""
    stream = sys.stderr if err else sys.stdout
    data = text + "\n" if nl else text
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and _is_ascii(getattr(stream, "encoding", None) or "utf-8"):
        stream.flush()
        buffer.write(data.encode("utf-8", "replace"))
        buffer.flush()
        return
    try:
        stream.write(data)
    except UnicodeEncodeError:
        encoding = stream.encoding or "utf-8"
        stream.write(data.encode(encoding, "replace").decode(encoding))
    stream.flush()


def _is_ascii(encoding: str) -> bool:
    import codecs

    try:
        return codecs.lookup(encoding).name == "ascii"
    except LookupError:
        return False


def guarded(run: Callable[[], T], passthrough: tuple[type[BaseException], ...] = ()) -> T | int:
    """Run a command: LeakscanError is exit 2 with its sentence, Ctrl-C is 130, a bug is exit 2
    without a traceback (which could quote scanned content). `passthrough` exceptions propagate."""
    try:
        return run()
    except passthrough:
        raise
    except LeakscanError as exc:
        from leakscan.commands.scan import redact_keys

        echo(f"leakscan: error: {redact_keys(str(exc))}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        echo("leakscan: interrupted; no report was written.", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("LEAKSCAN_DEBUG"):
            raise
        echo(f"leakscan: internal error ({type(exc).__name__}); the scan did not finish. "
             "Please report it with the command you ran.", err=True)  # fmt: skip
        return EXIT_ERROR
