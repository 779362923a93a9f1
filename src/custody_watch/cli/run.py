"""``custody-watch run``: the daemon (``--once`` for one full cycle)."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from custody_watch.cli.app import ConfigOption, app
from custody_watch.cli.common import checked_speed, clock_for, instant
from custody_watch.config import load_settings
from custody_watch.daemon.build import build_context
from custody_watch.daemon.cycle import run_cycle
from custody_watch.daemon.scheduler import run_forever


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="One full cycle, then exit.")] = False,
    now: Annotated[
        str | None, typer.Option("--now", help="The clock reads TIME at start and runs on.")
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Run the clock N times faster (drills, demos).")
    ] = 1.0,
) -> None:
    """Poll the sources, evaluate, escalate and send, until stopped (SIGTERM or Ctrl-C)."""
    checked_speed(speed)  # before anything is built: a bad factor is a usage error
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings(config)
    ctx = build_context(settings, clock_for(now, speed))
    # --now means the clock reads TIME when the work starts, not after start-up (migrations,
    # imports) has taken its fraction of a second: a step due at TIME must be due then.
    ctx.clock = clock_for(now, speed)
    if once:
        # One cycle is one instant: exactly TIME with --now, so replays are repeatable.
        at = instant("--now", now) if now is not None else ctx.clock.now()
        report = run_cycle(ctx, at, poll_all=True)
        typer.echo(
            f"cycle done: {report.changed} detentions changed, {report.evaluated} evaluated, "
            f"{report.escalated} alerts escalated, {report.sent} messages handled",
            err=True,
        )
        ctx.engine.dispose()
        return
    # The web side (board, ack links, Twilio webhooks, /healthz, /metrics) in a thread beside
    # the scheduler, on the same store and clock; stopped when the scheduler stops.
    from custody_watch.web.context import build_web_context
    from custody_watch.web.health import Heartbeat
    from custody_watch.web.server import BackgroundServer

    server: BackgroundServer | None = None
    heartbeat: Heartbeat | None = None
    if settings.web.enabled:
        heartbeat = Heartbeat()
        web = build_web_context(ctx, os.environ, heartbeat=heartbeat)
        server = BackgroundServer(web).start()  # a taken port is a config error (exit 2)
    try:
        run_forever(ctx, speed=speed, on_cycle=heartbeat.beat if heartbeat else None)
    finally:
        if server is not None:
            server.stop()
