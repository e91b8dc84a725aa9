"""A JSON HTTP server on 127.0.0.1 for tests that fake an API (Kubernetes, mostly).

Subclass `JsonHandler`, answer with `self.reply(code, body)`, read the request with
`self.read_body()` (each request is also recorded on `calls`), and run it with
`serving(handler)`, which yields the base URL and shuts the server down afterwards.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    # (method, path, JSON body or None, Content-Type, Authorization) of every request.
    calls: list[tuple[str, str, Any, str | None, str | None]]

    def log_message(self, *_args: Any) -> None:
        pass

    def reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append((self.command, self.path, body, self.headers.get("Content-Type"),
                           self.headers.get("Authorization")))
        return body


@contextmanager
def serving(handler: type[JsonHandler]) -> Iterator[str]:
    """Serve `handler` on a free port of 127.0.0.1; yields "http://127.0.0.1:<port>"."""
    handler.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
