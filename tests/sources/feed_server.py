"""A real HTTP server on 127.0.0.1 for the ``http_json`` tests.

Each path has a script of responses, served in turn (the last one repeats). Every request is
logged with its query and headers, so a test can check what the source sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # Answer only after this many seconds (or when the server closes), to outlast a timeout.
    hang: float = 0.0
    raw: bytes | None = None


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self._closing = threading.Event()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path] = list(replies)

    def close(self) -> None:
        self._closing.set()
        self._http.shutdown()
        self._http.server_close()

    def _next_reply(self, path: str) -> Reply:
        replies = self.scripts.get(path)
        if not replies:
            return Reply(404, {"error": "no such feed"})
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                server.requests.append(
                    Seen(parts.path, parse_qs(parts.query), dict(self.headers.items()))
                )
                reply = server._next_reply(parts.path)
                if reply.hang:
                    server._closing.wait(reply.hang)
                data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (timeout tests)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
