"""A loopback stand-in for Stripe's API (127.0.0.1 only), answering per key as a test scripts it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.conftest import sha256

HANG = -1  # answer nothing until the test ends


@dataclass
class Stub:
    base: str
    answers: dict[str, int] = field(default_factory=dict)  # sha256(key) -> status or HANG
    requests: list[dict[str, str]] = field(default_factory=list)  # path + headers (key hashed)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, key: str, status: int) -> None:
        self.answers[sha256(key)] = status

    def requested(self) -> list[str]:
        """sha256 of each key a request carried, in arrival order."""
        return [r["key_sha256"] for r in self.requests]


@contextmanager
def serve(default: int = 200, redirect_to: str | None = None) -> Iterator[Stub]:
    stub = Stub(base="")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ")
            digest = sha256(token)
            with lock:
                stub.requests.append({
                    "path": self.path, "key_sha256": digest, "bearer": str(auth.startswith("Bearer ")),
                    "stripe_context": self.headers.get("Stripe-Context", ""),
                    "stripe_version": self.headers.get("Stripe-Version", ""),
                })  # fmt: skip
            status = stub.answers.get(digest, default)
            if status == HANG:
                stub.release.wait(10)
                return
            self.send_response(status)
            if redirect_to is not None:
                self.send_header("Location", redirect_to)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"object": "account"}')

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
