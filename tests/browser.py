"""A real headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: no
port, nothing listening): load a file, and say what it requested, what it logged, what it shows, and
what it looks like (a PNG of the whole page)."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--remote-debugging-pipe",
)  # fmt: skip
TIMEOUT = 60.0
LOG = subprocess.DEVNULL  # Chromium's stderr (dbus noise); None shows it when debugging


class Page(NamedTuple):
    requests: tuple[str, ...]  # every URL the page asked for, the page itself included
    console: tuple[str, ...]  # console messages, exceptions and browser log entries (warning+)
    html: str  # the DOM once loaded
    text: str  # what a reader sees (document.body.innerText)


class _Pipe:
    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd, self.read_fd, self.buffer, self.next_id = write_fd, read_fd, b"", 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self.buffer:
            ready, _, _ = select.select(
                [self.read_fd], [], [], max(0.0, deadline - time.monotonic())
            )
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(message))


def load(
    path: Path, screenshot: Path | None = None, width: int = 1200, height: int | None = None
) -> Page:
    """Open `path` in a fresh profile; with `screenshot`, write a PNG of the page there (its whole
    height, or its first `height` pixels)."""
    assert CHROMIUM, "chromium is not installed (.ci/run installs it)"
    to_chrome, from_chrome = os.pipe(), os.pipe()

    def wire() -> None:  # the child reads commands on fd 3 and writes replies on fd 4
        read, write = os.dup(to_chrome[0]), os.dup(from_chrome[1])  # out of the way of 3 and 4
        os.dup2(read, 3)  # dup2 makes them inheritable (os.pipe's are close-on-exec)
        os.dup2(write, 4)

    with tempfile.TemporaryDirectory(prefix="leakscan-chromium-") as profile:
        proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=LOG,
            close_fds=False, preexec_fn=wire,  # noqa: PLW1509 - a test helper, one thread
            start_new_session=True,  # its own process group: ended with every helper it starts
        )  # fmt: skip
        os.close(to_chrome[0])
        os.close(from_chrome[1])
        cdp = _Pipe(to_chrome[1], from_chrome[0])
        try:
            return _drive(cdp, path, screenshot, (width, height))
        finally:
            _close(cdp, proc)
            os.close(to_chrome[1])
            os.close(from_chrome[0])


def _close(cdp: _Pipe, proc: subprocess.Popen[bytes]) -> None:
    """Ask Chromium to quit, then end its process group (renderers, zygote) before the profile
    directory is removed under it."""
    try:
        cdp.call("Browser.close")
    except (OSError, RuntimeError, TimeoutError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _drive(cdp: _Pipe, path: Path, screenshot: Path | None, size: tuple[int, int | None]) -> Page:
    width, height = size
    target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
    session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        cdp.call(f"{domain}.enable", session)
    cdp.call("Emulation.setDeviceMetricsOverride", session, width=width, height=900,
             deviceScaleFactor=1, mobile=False)  # fmt: skip
    cdp.events.clear()
    cdp.call("Page.navigate", session, url=path.resolve().as_uri())
    cdp.wait_for("Page.loadEventFired")
    html = _evaluate(cdp, session, "document.documentElement.outerHTML")
    text = _evaluate(cdp, session, "document.body.innerText")
    if screenshot is not None:
        full = cdp.call("Page.getLayoutMetrics", session)["cssContentSize"]["height"]
        clip = {"x": 0, "y": 0, "width": width, "height": min(full, height or full), "scale": 1}
        shot = cdp.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                        clip=clip)  # fmt: skip
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    return Page(_requests(cdp.events), _console(cdp.events), html, text)


def _evaluate(cdp: _Pipe, session: str, expression: str) -> str:
    reply = cdp.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    return str(reply["result"]["value"])


def _requests(events: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    )


def _console(events: list[dict[str, Any]]) -> tuple[str, ...]:
    said = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled":
            said.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            said.append(str(params["exceptionDetails"].get("text", "exception")))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("warning", "error"):
            said.append(f"{params['entry']['source']}: {params['entry']['text']}")
    return tuple(said)
