"""``custody-watch web``: the web side alone (``run`` also serves it)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from custody_watch.cli.app import ConfigOption, app
from custody_watch.cli.common import TIME_HELP, clock_for
from custody_watch.config import load_settings
from custody_watch.daemon.build import build_context
from custody_watch.logs import logging_for


@app.command()
def web(
    config: ConfigOption = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", metavar="TIME", help=f"The clock reads TIME at start and runs on. {TIME_HELP}"
        ),
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT instead of [web] listen.")
    ] = None,
) -> None:
    """Serve the board, acknowledgement links, Twilio webhooks, /healthz and /metrics."""
    from custody_watch.web.context import build_web_context
    from custody_watch.web.server import parse_listen, serve

    settings = load_settings(config)
    parse_listen(listen or settings.web.listen)  # a bad address is a config error, exit 2
    with logging_for(settings.logging):  # [logging] format, as for run
        ctx = build_context(settings, clock_for(now))
        try:
            serve(build_web_context(ctx, os.environ), listen)
        finally:
            ctx.engine.dispose()
