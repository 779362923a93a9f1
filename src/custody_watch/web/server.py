"""Serving the app with uvicorn: in the foreground (``custody-watch web``) or in a thread
beside the daemon (``custody-watch run``) and the browser test."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import uvicorn

from custody_watch.errors import ConfigError
from custody_watch.web.app import create_app
from custody_watch.web.app_context import WebContext

log = logging.getLogger(__name__)


def parse_listen(listen: str) -> tuple[str, int]:
    """``127.0.0.1:8080``, ``[::1]:8080`` or ``:8080`` (all addresses) into host and port.
    Port 0 takes any free port (tests that run the daemon)."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"web.listen: not host:port: {listen!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def server_for(
    web: WebContext, listen: str | None = None, log_level: str = "info"
) -> uvicorn.Server:
    host, port = parse_listen(listen or web.settings.web.listen)
    config = uvicorn.Config(
        create_app(web),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # URLs carry acknowledgement tokens: keep them out of logs
        # The app sees the connection's own address and decides itself whom to believe
        # ([web] trusted_proxies): uvicorn would otherwise take X-Forwarded-For from any
        # local process as the client, and a trusted proxy's requests would look direct.
        proxy_headers=False,
        server_header=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def serve(web: WebContext, listen: str | None = None) -> None:
    """In the foreground until Ctrl-C or SIGTERM (uvicorn handles both)."""
    server_for(web, listen).run()


class BackgroundServer:
    """The web side in a daemon thread; ``stop`` asks it to finish and waits."""

    def __init__(self, web: WebContext, listen: str | None = None) -> None:
        self.server = server_for(web, listen, log_level="warning")
        self._thread = threading.Thread(target=self._run, name="custody-watch-web", daemon=True)
        self._failed: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve())
        except BaseException as exc:  # SystemExit(1) when the port is taken
            self._failed = exc

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(
                    f"web.listen: cannot serve on {self.server.config.host}:"
                    f"{self.server.config.port} (in use, or not an address of this machine)"
                )
            time.sleep(0.02)
        log.info("web side on http://%s:%s", self.server.config.host, self.server.config.port)
        return self

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self.server.config.port)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
