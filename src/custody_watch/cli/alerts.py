"""``custody-watch alerts`` and ``custody-watch ack``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts.ack import acknowledge
from custody_watch.alerts.report import alert_json, alert_rows
from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.cli.common import clock_for, open_store, print_json
from custody_watch.cli.tables import severity_text, stdout
from custody_watch.config import Settings, load_settings
from custody_watch.daemon.build import alert_context, channel_kinds
from custody_watch.domain import Severity
from custody_watch.errors import InputError
from custody_watch.messages.labels import rule_label
from custody_watch.messages.render import Renderer
from custody_watch.store.schema import UserRow
from custody_watch.times import local_label, parse_zone


@app.command()
def alerts(
    config: ConfigOption = None,
    show_all: Annotated[bool, typer.Option("--all", help="Resolved alerts too.")] = False,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Open and acknowledged alerts (with --all, resolved ones too)."""
    settings = load_settings(config)
    sessions = open_store(settings)
    with sessions() as session:
        rows = alert_rows(session, show_all)
        data = [alert_json(session, alert) for alert in rows]
    if output is OutputFormat.JSON:
        print_json({"alerts": data})
        return
    zone = parse_zone(settings.timezone)
    table = Table(title=f"{len(data)} alerts", title_justify="left")
    for column in (
        "id",
        "severity",
        "state",
        "ack",
        "custody ref",
        "suite",
        "opened",
        "findings",
        "acknowledged by",
    ):
        table.add_column(column, overflow="fold")
    for alert, item in zip(rows, data, strict=True):
        table.add_row(
            str(alert.id),
            severity_text(Severity(alert.severity)),
            alert.state,
            alert.ack_code,
            alert.custody_ref or "(system)",
            alert.suite or "-",
            local_label(alert.opened_at, zone),
            "; ".join(rule_label(f["rule"]) for f in item["findings"]) or alert.summary,
            alert.acknowledged_by or "-",
        )
    stdout().print(table)


@app.command()
def ack(
    code: Annotated[str, typer.Argument(help="The alert's acknowledgement code.")],
    by: Annotated[str, typer.Option("--by", help="Who takes ownership (a person id).")],
    config: ConfigOption = None,
    now: Annotated[str | None, typer.Option("--now", help="Acknowledge as of TIME.")] = None,
) -> None:
    """Acknowledge the alert whose code is CODE."""
    settings = load_settings(config)
    at = clock_for(now).now()
    sessions = open_store(settings)
    ctx = alert_context(settings, channel_kinds(settings))
    with sessions.begin() as session:
        owner = _known_owner(session, settings, by)
        result = acknowledge(session, code, owner, ctx, Renderer(), at, via="cli")
    if not result.ok:
        raise InputError(result.message)
    typer.echo(result.message)


def _known_owner(session: Session, settings: Settings, by: str) -> str:
    """An acknowledgement stops the escalation, so it must name someone who will act: a
    configured person or an enabled web user. "Acknowledged by nobody" (a blank, a typo)
    would silence a child's alert with no one owning it."""
    who = by.strip()
    if not who:
        raise InputError("--by: name the person who takes ownership (a person id)")
    if any(person.id == who for person in settings.people):
        return who
    user = session.scalar(
        select(UserRow).where(UserRow.username == who, UserRow.disabled.is_(False))
    )
    if user is None:
        raise InputError(
            f"--by: {who[:40]!r} is neither a person in the config nor an enabled user"
        )
    return who
