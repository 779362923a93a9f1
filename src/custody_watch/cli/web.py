"""``custody-watch web``: the web side alone (``run`` also serves it)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from custody_watch.cli.app import ConfigOption, app
from custody_watch.cli.common import TIME_HELP, clock_for
from custody_watch.config import load_settings
from custody_watch.daemon.compose import build_context
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
    # Imported here: the web stack is loaded only by the commands that serve it.
    from custody_watch.daemon.web_side import check_listen, serve_alone

    settings = load_settings(config)
    check_listen(listen or settings.web.listen)  # a bad address is a config error, exit 2
    with logging_for(settings.logging):  # [logging] format, as for run
        ctx = build_context(settings, clock_for(now))
        try:
            serve_alone(ctx, listen, os.environ)
        finally:
            ctx.engine.dispose()
