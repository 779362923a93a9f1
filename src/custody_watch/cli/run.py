"""``custody-watch run``: the daemon (``--once`` for one full cycle)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import typer

from custody_watch.alerts.render_failed import report_render_outcome
from custody_watch.cli.app import ConfigOption, app
from custody_watch.cli.common import TIME_HELP, checked_speed, clock_for, instant, stored_until
from custody_watch.clock import Clock, StartedClock
from custody_watch.config import Settings, load_settings
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.cycle import run_cycle
from custody_watch.daemon.runtime import Context
from custody_watch.daemon.scheduler import run_forever
from custody_watch.liveness import Heartbeat
from custody_watch.logs import logging_for
from custody_watch.service import ServiceNotifier
from custody_watch.times import utc_z

log = logging.getLogger(__name__)
# --once ends with this status when any message had to be sent in the fallback wording: the
# messages went out, but a script or a drill must not take the run for a clean one.
EXIT_RENDER_FAILED = 1


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="One full cycle, then exit.")] = False,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", metavar="TIME", help=f"The clock reads TIME at start and runs on. {TIME_HELP}"
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            metavar="N",
            help=(
                "Run the clock N times faster (drills, demos). Without --now, a restart "
                "resumes the clock from the latest instant the store holds."
            ),
        ),
    ] = 1.0,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Every log line (the scheduler's and Alembic's too)."),
    ] = False,
) -> None:
    """Poll the sources, evaluate, escalate and send, until stopped (SIGTERM or Ctrl-C)."""
    checked_speed(speed)  # before anything is built: a bad factor is a usage error
    settings = load_settings(config)
    with logging_for(settings.logging, verbose=verbose):
        _run(settings, once=once, now=now, speed=speed)


def _run(settings: Settings, *, once: bool, now: str | None, speed: float) -> None:
    ctx = build_context(settings, clock_for(now, speed))
    # --now means the clock reads TIME when the work starts, not after start-up (migrations,
    # imports) has taken its fraction of a second: a step due at TIME must be due then.
    ctx.clock = clock_for(now, speed)
    if now is None and speed != 1.0:
        ctx.clock = _resumed(ctx, speed)
    if once:
        # One cycle is one instant: exactly TIME with --now, so replays are repeatable.
        at = instant("--now", now) if now is not None else ctx.clock.now()
        report = run_cycle(ctx, at, poll_all=True)
        rendering = report_render_outcome(ctx.sessions, ctx.alerts, at)
        if rendering.failures:
            # No next cycle will send the operations alert just raised: send it now.
            ctx.dispatcher.run(at)
        typer.echo(
            f"cycle done: {report.changed} detentions changed, {report.evaluated} evaluated, "
            f"{report.escalated} alerts escalated, {report.sent} messages handled",
            err=True,
        )
        ctx.engine.dispose()
        if rendering.failures:
            typer.echo(
                f"custody-watch: {len(rendering.failures)} messages could not be made from the "
                f"templates in {ctx.alerts.renderer.directory} and were sent in fallback wording; "
                "operations alerted (custody-watch check-config names the problem)",
                err=True,
            )
            raise typer.Exit(EXIT_RENDER_FAILED)
        return
    # The web side (board, ack links, Twilio webhooks, /healthz, /metrics) in a thread beside
    # the scheduler, on the same store and clock; stopped when the scheduler stops. Imported
    # here: the web stack is loaded only when the daemon serves it.
    from custody_watch.daemon.web_side import WebBeside, start_beside

    web: WebBeside | None = start_beside(ctx, os.environ) if settings.web.enabled else None
    heartbeat = web.heartbeat if web is not None else None
    service = ServiceNotifier()
    service.ready(f"watching {len(settings.sources)} sources")
    try:
        run_forever(ctx, speed=speed, on_cycle=after_cycle(ctx, heartbeat, service))
    finally:
        service.stopping()
        if web is not None:
            web.server.stop()


def _resumed(ctx: Context, speed: float) -> Clock:
    with ctx.sessions() as session:
        stored = stored_until(session)
    clock = resumed_clock(ctx.clock, stored, speed)
    if clock is not ctx.clock and stored is not None:
        log.info("resuming the simulated clock at %s, where the stored data end", utc_z(stored))
    return clock


def resumed_clock(clock: Clock, stored: datetime | None, speed: float) -> Clock:
    """A drill's clock after a restart: from where the store's clock had got to when that
    is ahead of ``clock``, not from the real time (behind it, the simulator's children would
    be read again as new, nothing would happen for minutes, then a critical child would show
    with no alert)."""
    if stored is None or stored <= clock.now():
        return clock
    return StartedClock(stored, speed)


def after_cycle(
    ctx: Context, heartbeat: Heartbeat | None, service: ServiceNotifier
) -> Callable[[datetime, float, bool], None]:
    """What follows every tick: /healthz's heartbeat, render failures to operations, then
    systemd's watchdog (last, so a tick whose reporting hangs is not counted as alive)."""

    def done(at: datetime, seconds: float, finished: bool) -> None:
        if heartbeat is not None:
            heartbeat.beat(at, seconds, finished)
        try:
            report_render_outcome(ctx.sessions, ctx.alerts, at)
        except Exception:  # the scheduler thread must go on; the next tick reports again
            log.exception("could not raise the message_render_failed alert")
        service.on_cycle(at, seconds, finished)

    return done
