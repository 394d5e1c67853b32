"""A loopback forge for `scan-many github:`/`gitlab:` tests: enough of GitHub's and GitLab's REST APIs
(pages with `Link` headers, a token check, scripted rate-limit and error replies) and real git over
smart HTTP (`git http-backend` as a CGI) for the repositories under one directory."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Forge:
    """`repos`: what the API lists (GitHub or GitLab shaped dicts); `faults`: path prefix -> list of
    (status, headers) replies served, one each, before the real answer; `log`: (method, path with
    query, Authorization or PRIVATE-TOKEN header) of every request."""

    def __init__(self, root: Path, token: str, page_size: int = 12) -> None:
        self.root, self.token, self.page_size = root, token, page_size
        self.repos: dict[str, list[dict[str, Any]]] = {}  # API path -> the whole collection
        self.faults: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.log: list[tuple[str, str, str]] = []
        self.git_commands: list[str] = []  # protocol v2 commands asked for: ls-refs, fetch
        self.git_bytes = 0  # response bytes of the git requests (what clones and fetches cost)
        self.url = ""
        self.link_url = ""  # where next-page links point (default: self.url)

    def clone_url(self, name: str) -> str:
        return f"{self.url}/git/{name}"

    def handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        auth = h.headers.get("Authorization") or h.headers.get("PRIVATE-TOKEN") or ""
        self.log.append((h.command, h.path, auth))
        path, _, query = h.path.partition("?")
        if path.startswith("/git/"):
            if (
                auth
                != "Basic " + base64.b64encode(f"{self._user(h)}:{self.token}".encode()).decode()
            ):
                return _reply(h, 401, b"", {"WWW-Authenticate": 'Basic realm="forge"'})
            self._note_command(h, body)
            return self._git(h, path.removeprefix("/git"), query, body)
        for prefix, replies in self.faults.items():
            if h.path.startswith(prefix) and replies:
                status, headers = replies.pop(0)
                return _reply(h, status, b'{"message": "scripted"}', headers)
        if auth not in (f"Bearer {self.token}", self.token):
            return _reply(h, 401, b'{"message": "Bad credentials"}')
        if path not in self.repos:
            return _reply(h, 404, b'{"message": "Not Found"}')
        return self._page(h, path, urllib.parse.parse_qs(query))

    def _note_command(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        if h.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        for command in (b"ls-refs", b"fetch"):
            if b"command=" + command in body:
                self.git_commands.append(command.decode())

    def _user(self, h: BaseHTTPRequestHandler) -> str:
        given = base64.b64decode(h.headers.get("Authorization", "Basic ")[6:] or b"").decode()
        return (
            given.partition(":")[0]
            if given.partition(":")[0] in ("x-access-token", "oauth2")
            else "?"
        )

    def _page(self, h: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> None:
        items = self.repos[path]
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * self.page_size : page * self.page_size]
        headers = {"Content-Type": "application/json"}
        if page * self.page_size < len(items):
            rest = {k: v[0] for k, v in query.items() if k != "page"}
            nxt = urllib.parse.urlencode({**rest, "page": page + 1})
            base = self.link_url or self.url
            headers["Link"] = f'<{base}{path}?{nxt}>; rel="next", <{base}{path}>; rel="first"'
        _reply(h, 200, json.dumps(chunk).encode(), headers)

    def _git(self, h: BaseHTTPRequestHandler, path: str, query: str, body: bytes) -> None:
        env = {
            "PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path, "QUERY_STRING": query,
            "REQUEST_METHOD": h.command, "CONTENT_TYPE": h.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
            "HTTP_CONTENT_ENCODING": h.headers.get("Content-Encoding", ""),
            "HTTP_GIT_PROTOCOL": h.headers.get("Git-Protocol", ""), "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.root),
        }  # fmt: skip
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True,
                             check=False).stdout  # fmt: skip
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name] = value
        self.git_bytes += len(payload)
        _reply(h, status, payload, headers)


def _reply(
    h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def rate_limited(reset_in: float = 0.0) -> tuple[int, dict[str, str]]:
    """GitHub's primary rate-limit reply: 403, nothing remaining, reset at an epoch second."""
    reset = str(int(time.time() + reset_in))
    return 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}


@contextmanager
def serving(forge: Forge) -> Iterator[Forge]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            forge.handle(self, b"")

        def do_POST(self) -> None:
            forge.handle(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    forge.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()


def github_repo(forge: Forge, name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "full_name": f"acme/{name}", "clone_url": forge.clone_url(name),
            "fork": False, "archived": False, **extra}  # fmt: skip


def gitlab_project(forge: Forge, path: str, **extra: Any) -> dict[str, Any]:
    return {"path_with_namespace": path, "http_url_to_repo": forge.clone_url(path.rpartition("/")[2]),
            "archived": False, **extra}  # fmt: skip
