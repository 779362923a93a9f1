"""``custody-watch oncall [--at TIME]``: who holds each role."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.cli.common import clock_for, print_json
from custody_watch.cli.tables import stdout
from custody_watch.config import load_settings
from custody_watch.daemon.compose import alert_deps, channel_kinds, escalation_roles
from custody_watch.times import format_local, parse_zone
from custody_watch.times import utc_z_or_none as z


@app.command()
def oncall(
    config: ConfigOption = None,
    at: Annotated[str | None, typer.Option("--at", help="Who is on call at TIME.")] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Who holds each role now (or at TIME), from the rota and its overrides."""
    settings = load_settings(config)
    when = clock_for(at).now()
    directory = alert_deps(settings, channel_kinds(settings)).directory
    roles = sorted(directory.rota.roles() | escalation_roles(settings))
    scopes = sorted({(e.force, e.suite) for e in settings.rota if e.force or e.suite}, key=str)
    rows: list[dict[str, Any]] = []
    for role in roles:
        for force, suite in [(None, None), *scopes]:
            people = directory.rota.on_call(role, when, suite=suite, force=force)
            if (force or suite) and people == directory.rota.on_call(role, when):
                continue  # same as the general rota: not worth a row
            rows.append(
                {
                    "role": role,
                    "force": force,
                    "suite": suite,
                    "people": [
                        {"id": p, "name": directory.people[p].name}
                        for p in people
                        if p in directory.people
                    ],
                }
            )
    if output is OutputFormat.JSON:
        print_json({"at": z(when), "roles": rows})
        return
    zone = parse_zone(settings.timezone)
    table = Table(title=f"On call at {format_local(when, zone)}", title_justify="left")
    for column in ("role", "scope", "who"):
        table.add_column(column)
    for row in rows:
        scope = " / ".join(str(s) for s in (row["force"], row["suite"]) if s) or "all"
        people = row["people"]
        who = ", ".join(f"{p['name']} ({p['id']})" for p in people) or "[bold red]NOBODY[/]"
        table.add_row(str(row["role"]), scope, who)
    stdout().print(table)
