"""The terminal: the one place that writes to stdout/stderr and maps errors to exit codes (DESIGN §7).

Both entry points use it: the click CLI (`cli/app.py`) and the click-free `scan` (`cli/fast.py`);
the commands write their lines through `echo`.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable
from typing import TypeVar

from leakscan.errors import LeakscanError
from leakscan.fingerprint import redact
from leakscan.match.engine import compile_matcher, find_matches
from leakscan.scan.interrupt import Terminated
from leakscan.settings.builtin import load_builtin

T = TypeVar("T")

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


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


def ask(prompt: str) -> str | None:
    """Show `prompt` on stdout and read one line from stdin (None at end of input)."""
    echo(prompt, nl=False)
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def _is_ascii(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "ascii"
    except LookupError:
        return False


def guarded(run: Callable[[], T], passthrough: tuple[type[BaseException], ...] = ()) -> T | int:
    """Run a command: LeakscanError is exit 2 with its sentence, Ctrl-C is 130 (SIGTERM 143), a bug is exit 2
    without a traceback (which could quote scanned content). `passthrough` exceptions propagate."""
    try:
        return run()
    except passthrough:
        raise
    except LeakscanError as exc:
        echo(f"leakscan: error: {redact_keys(str(exc))}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        echo("leakscan: interrupted; no report was written.", err=True)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("LEAKSCAN_DEBUG"):
            raise
        echo(f"leakscan: internal error ({type(exc).__name__}); the scan did not finish. "
             "Please report it with the command you ran.", err=True)  # fmt: skip
        return EXIT_ERROR


def redact_keys(text: str) -> str:
    """Defence in depth for messages built from untrusted input (a rule or config file quoting a
    key): every built-in rule's match in it is redacted."""
    found = find_matches(compile_matcher(load_builtin().rules), text.encode("utf-8", "replace"))
    return redact(text, {m.secret for m in found.matches})
