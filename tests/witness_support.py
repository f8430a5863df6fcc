"""A checkpoint witness for tests: a real HTTP server on 127.0.0.1 (port 0) that checks each
body's HMAC signature and keeps what it received as JSON Lines, as a witness would."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

WITNESS_SECRET = "witness-secret-for-tests-0123456789"


class WitnessServer:
    def __init__(self, store: Path, secret: str = WITNESS_SECRET) -> None:
        self.store = store
        self.secret = secret
        self.fail_next = 0
        """Answer this many requests with 503 before accepting again."""
        self.refused_signatures = 0
        self.requests = 0
        self.lock = threading.Lock()
        self.url = ""

    def received(self) -> list[dict[str, Any]]:
        if not self.store.exists():
            return []
        return [orjson.loads(line) for line in self.store.read_bytes().splitlines()]

    def handle(self, body: bytes, signature: str | None) -> int:
        with self.lock:
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            expected = "sha256=" + hmac.new(self.secret.encode(), body,
                                            hashlib.sha256).hexdigest()
            if signature is None or not hmac.compare_digest(signature, expected):
                self.refused_signatures += 1
                return 401
            with self.store.open("ab") as out:
                for checkpoint in orjson.loads(body)["checkpoints"]:
                    out.write(orjson.dumps(checkpoint) + b"\n")
            return 204


@contextmanager
def witness_server(store: Path, secret: str = WITNESS_SECRET) -> Iterator[WitnessServer]:
    witness = WitnessServer(store, secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(witness.handle(body, self.headers.get("X-Guardian-Signature")))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    witness.url = f"http://127.0.0.1:{server.server_address[1]}/witness?token=t0ps3cret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield witness
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
