"""``custody-watch alerts`` and ``custody-watch ack``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import actions
from custody_watch.alerts.ack import acknowledge
from custody_watch.alerts.actions import ActionResult
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.report import ALERT_CSV_HEADER, alert_csv_rows, alert_json, alert_rows
from custody_watch.cli.app import ConfigOption, ExportFormat, ExportFormatOption, app
from custody_watch.cli.common import (
    TIME_HELP,
    clock_for,
    instant,
    open_store,
    print_csv,
    print_json,
    replay_instant,
)
from custody_watch.cli.tables import severity_text, stdout
from custody_watch.config import Settings, load_settings
from custody_watch.daemon.compose import alert_deps, channel_kinds
from custody_watch.domain import Severity
from custody_watch.errors import InputError
from custody_watch.messages.labels import rule_label
from custody_watch.store.schema import AlertRow, UserRow
from custody_watch.times import format_local, parse_duration, parse_zone, utc_z


@app.command()
def alerts(
    config: ConfigOption = None,
    show_all: Annotated[bool, typer.Option("--all", help="Resolved alerts too.")] = False,
    output: ExportFormatOption = ExportFormat.TABLE,
) -> None:
    """Open and acknowledged alerts (with --all, resolved ones too)."""
    settings = load_settings(config)
    sessions = open_store(settings)
    with sessions() as session:
        rows = alert_rows(session, show_all)
        data = [alert_json(session, alert) for alert in rows]
    if output is ExportFormat.JSON:
        print_json({"alerts": data})
        return
    if output is ExportFormat.CSV:
        print_csv(ALERT_CSV_HEADER, alert_csv_rows(data))
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
            format_local(alert.opened_at, zone),
            "; ".join(rule_label(f["rule"]) for f in item["findings"]) or alert.summary,
            alert.acknowledged_by or "-",
        )
    stdout().print(table)


@app.command()
def ack(
    code: Annotated[str, typer.Argument(help="The alert's acknowledgement code.")],
    by: Annotated[str, typer.Option("--by", help="Who takes ownership (a person id).")],
    config: ConfigOption = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="TIME",
            help=(
                "Acknowledge as of TIME (default: now, or the store's latest event when its "
                f"data are a replay). {TIME_HELP}"
            ),
        ),
    ] = None,
) -> None:
    """Acknowledge the alert whose code is CODE."""
    settings = load_settings(config)
    at = clock_for(now).now()
    sessions = open_store(settings)
    deps = alert_deps(settings, channel_kinds(settings))
    replay: datetime | None = None
    with sessions.begin() as session:
        owner = _known_owner(session, settings, by)
        if now is None:
            replay = replay_instant(session, at)
            at = replay or at
        result = acknowledge(session, code, owner, deps, at, via="cli")
    if not result.ok:
        raise InputError(result.message)
    if replay is not None:
        # Said after the fact, so that a refusal stays the one line the CLI contract asks for.
        typer.echo(
            f"custody-watch: the store's data are a replay (latest event {utc_z(replay)}): "
            "acknowledged as of then; give --now to choose",
            err=True,
        )
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


# --- snooze, note, escalate, reassign -----------------------------------------------------

CodeArgument = Annotated[str, typer.Argument(help="The alert's acknowledgement code.")]
ByOption = Annotated[str, typer.Option("--by", help="Who does it (a person id or a user).")]
NowOption = Annotated[
    str | None,
    typer.Option("--now", metavar="TIME", help=f"As of TIME (default: as for ack). {TIME_HELP}"),
]


def _act(
    config: Path | None,
    code: str,
    by: str,
    now: str | None,
    act: Callable[[Session, AlertRow, str, AlertDeps, datetime], ActionResult],
) -> None:
    """One action on the live alert whose code is ``code``, as ``by``, in one transaction."""
    settings = load_settings(config)
    # Exactly TIME with --now (a replay's audit reads as the replay did).
    at = instant("--now", now) if now is not None else clock_for(None).now()
    sessions = open_store(settings)
    deps = alert_deps(settings, channel_kinds(settings))
    with sessions.begin() as session:
        if now is None:
            at = replay_instant(session, at) or at
        owner = _known_owner(session, settings, by)
        alert = actions.live_by_code(session, code)
        if alert is None:
            raise InputError(f"no live alert has the code {code}")
        # A refusal is committed too: its audit row says who tried what.
        result = act(session, alert, owner, deps, at)
    if not result.ok:
        raise InputError(result.message)
    typer.echo(result.message)


@app.command()
def snooze(
    code: CodeArgument,
    by: ByOption,
    reason: Annotated[str, typer.Option("--reason", help="Why paging may wait (required).")],
    length: Annotated[
        str, typer.Option("--for", metavar="DURATION", help="How long, at most 2h, e.g. 30m.")
    ] = "30m",
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Pause paging for the alert whose code is CODE (never for a statutory breach)."""
    try:
        span = parse_duration(length)
    except ValueError as exc:
        raise InputError(f"--for: {exc}") from None
    _act(
        config,
        code,
        by,
        now,
        lambda s, alert, owner, _deps, at: actions.snooze(s, alert, owner, span, reason, at),
    )


@app.command()
def note(
    code: CodeArgument,
    by: ByOption,
    text: Annotated[str, typer.Option("--text", help="The note (a handover, what was done).")],
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Add a note to the alert whose code is CODE (shown on the board and in the digest)."""
    _act(
        config,
        code,
        by,
        now,
        lambda s, alert, owner, _deps, at: actions.add_note(s, alert, owner, text, at),
    )


@app.command()
def escalate(
    code: CodeArgument, by: ByOption, config: ConfigOption = None, now: NowOption = None
) -> None:
    """Escalate the alert whose code is CODE to its next level now."""
    _act(config, code, by, now, actions.escalate_now)


@app.command()
def reassign(
    code: CodeArgument,
    by: ByOption,
    to: Annotated[str, typer.Option("--to", help="The person (id) to page instead of the rota.")],
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Page PERSON instead of the rota for the alert whose code is CODE."""
    _act(
        config,
        code,
        by,
        now,
        lambda s, alert, owner, deps, at: actions.reassign(s, alert, owner, to, deps, at),
    )
