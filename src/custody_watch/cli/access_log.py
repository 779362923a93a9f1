"""``custody-watch access-log``: who consulted or was sent which detention record, oldest
first (Data Protection Act 2018 s.62)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.cli.common import instant, open_store, print_json
from custody_watch.cli.tables import stdout
from custody_watch.config import load_settings
from custody_watch.store import access
from custody_watch.times import parse_zone


@app.command("access-log")
def access_log(
    config: ConfigOption = None,
    ref: Annotated[str | None, typer.Option("--ref", help="Only this custody ref.")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user (digest: the daily digest).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only at or after TIME (ISO 8601 with offset).")
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Every consultation or disclosure of a detention's record: when, who, which, what,
    from where (for the digest: to whom)."""
    start = instant("--since", since) if since is not None else None
    settings = load_settings(config)
    with open_store(settings)() as session:
        rows = access.accesses(session, custody_ref=ref, actor=user, since=start)
        data = [access.as_json(row) for row in rows]
    if output is OutputFormat.JSON:
        print_json({"accesses": data})
        return
    zone = parse_zone(settings.timezone)
    table = Table(title=f"{len(data)} accesses", title_justify="left")
    for column in ("at", "user", "custody ref", "what", "from"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
            row.actor,
            row.custody_ref,
            row.what,
            row.address or "-",
        )
    stdout().print(table)
