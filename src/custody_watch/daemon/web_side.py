"""The web side as the daemon serves it: its context made from the daemon's, and its server
started beside the scheduler (``custody-watch run``) or alone (``custody-watch web``).

Here, not in ``web/``: the web side imports nothing of the daemon. The composition root
(``daemon.compose``) hands it the store, clock, alert side and secrets it needs, as it hands
the scheduler its own. Loading this module loads the web stack (FastAPI, uvicorn), so the
command line imports it only when it serves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from custody_watch.config.secrets import TWILIO_AUTH_TOKEN, secret
from custody_watch.daemon.compose import ack_links, signing_key
from custody_watch.daemon.runtime import Context
from custody_watch.liveness import Heartbeat
from custody_watch.resources import templates_dir
from custody_watch.web.app_context import WebContext, metrics_token
from custody_watch.web.server import BackgroundServer, parse_listen, serve


def build_web_context(
    ctx: Context, env: Mapping[str, str] | None = None, *, heartbeat: Heartbeat | None = None
) -> WebContext:
    """What every request needs, from the daemon's ``Context``: the same store, clock and
    alert side, so an acknowledgement on the board is the one the scheduler sees."""
    env = os.environ if env is None else env
    now = ctx.clock.now()
    return WebContext(
        settings=ctx.settings,
        sessions=ctx.sessions,
        clock=ctx.clock,
        alerts=ctx.alerts,
        policy=ctx.policy,
        signing_key=signing_key(ctx.sessions, env, now),
        links=ack_links(ctx.settings, ctx.sessions, env, now),
        twilio_auth_token=secret(TWILIO_AUTH_TOKEN, env),
        metrics_token=metrics_token(ctx.settings, env),
        heartbeat=heartbeat,
        templates=templates_dir() / "web",
    )


@dataclass(frozen=True, slots=True)
class WebBeside:
    server: BackgroundServer
    # Beaten after every cycle (``cli.run.after_cycle``), read by /healthz and /metrics.
    heartbeat: Heartbeat


def start_beside(ctx: Context, env: Mapping[str, str]) -> WebBeside:
    """The board, ack links, Twilio webhooks, /healthz and /metrics in a thread beside the
    scheduler, on the same store and clock; stop ``server`` when the scheduler stops. A
    taken port is a config error (exit 2)."""
    heartbeat = Heartbeat(daemon=ctx.status)
    server = BackgroundServer(build_web_context(ctx, env, heartbeat=heartbeat)).start()
    return WebBeside(server, heartbeat)


def check_listen(listen: str) -> None:
    """A bad ``host:port`` is a config error (exit 2), found before anything is built."""
    parse_listen(listen)


def serve_alone(ctx: Context, listen: str | None, env: Mapping[str, str]) -> None:
    """The web side in the foreground until stopped (``custody-watch web``)."""
    serve(build_web_context(ctx, env), listen)
