"""``custody-watch retention``: delete what is past its ``[retention]`` period, or with
``--dry-run`` only count it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.cli.common import clock_for, open_store, print_json
from custody_watch.cli.tables import stdout
from custody_watch.config import load_settings
from custody_watch.store import retention as retention_store


@app.command()
def retention(
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
    now: Annotated[
        str | None, typer.Option("--now", help="Judge ages as of TIME (default: now).")
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Delete released detentions, rejected rows, access and audit log rows older than
    [retention] allows (never an open detention or one with a live alert)."""
    settings = load_settings(config)
    at = clock_for(now).now()
    periods = retention_store.Periods.of(settings.retention)
    sessions = open_store(settings)
    if dry_run:
        with sessions() as session:
            counts = retention_store.due(session, periods, at)
    else:
        counts = retention_store.run(sessions, periods, at, actor="cli")
    if output is OutputFormat.JSON:
        print_json({"at": at, "dry_run": dry_run, "counts": counts})
        return
    verb = "would delete" if dry_run else "deleted"
    table = Table(title=f"{verb}: {sum(counts.values())} rows", title_justify="left")
    table.add_column("kind")
    table.add_column("rows", justify="right")
    for kind in retention_store.KINDS:
        table.add_row(kind, str(counts[kind]))
    stdout().print(table)
