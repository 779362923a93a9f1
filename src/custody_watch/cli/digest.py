"""``custody-watch digest --date D``: build any day's digest again; print it or send it."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.cli.app import ConfigOption, app
from custody_watch.cli.common import TIME_HELP, clock_for, open_store, print_csv, print_json
from custody_watch.config import Settings, load_settings, rules_policy
from custody_watch.errors import InputError
from custody_watch.notify.base import InlineImage
from custody_watch.times import FIRST_YEAR, LAST_YEAR


class DigestFormat(StrEnum):
    TEXT = "text"
    HTML = "html"
    JSON = "json"
    CSV = "csv"


@app.command()
def digest(
    day: Annotated[
        str, typer.Option("--date", help="The digest's date, YYYY-MM-DD (its window ends then).")
    ],
    config: ConfigOption = None,
    send: Annotated[
        bool, typer.Option("--send", help="Send it now to the digest recipients in the config.")
    ] = False,
    show: Annotated[bool, typer.Option("--print", help="Print it (the default).")] = False,
    output: Annotated[
        DigestFormat,
        typer.Option(
            "--format",
            help="json or csv: the figures; text or html: the digest itself.",
        ),
    ] = DigestFormat.TEXT,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", metavar="TIME", help=f"The time to build it at (default: now). {TIME_HELP}"
        ),
    ] = None,
) -> None:
    """Build the daily digest for a date, from what the store holds; print it or send it."""
    if send and show:
        raise InputError("--send and --print: give one or the other")
    digest_day = _date(day)
    settings = load_settings(config)
    at = clock_for(now).now()
    policy = rules_policy(settings)
    sessions = open_store(settings)
    if send:
        _send(settings, sessions, digest_day, at, output)
        return
    # Imported here: charts load matplotlib, which other commands never need.
    from custody_watch.digest.send import build_digest

    with sessions() as session:
        built = build_digest(
            session,
            settings,
            digest_day,
            at,
            policy=policy,
            with_charts=output is DigestFormat.HTML,
        )
    if output is DigestFormat.JSON:
        print_json(built.figures)
    elif output is DigestFormat.CSV:
        print_csv(["figure", "value"], flat_figures(built.figures))
    elif output is DigestFormat.HTML:
        typer.echo(self_contained(built.rendered.html, built.rendered.images), nl=False)
    else:
        typer.echo(f"Subject: {built.rendered.subject}\n")
        typer.echo(built.rendered.text, nl=False)


def _send(
    settings: Settings,
    sessions: sessionmaker[Session],
    day: date,
    at: datetime,
    output: DigestFormat,
) -> None:
    from custody_watch.digest.send import recipients_problem, resend
    from custody_watch.notify.channels import build_channels

    channels = build_channels(settings, os.environ, allow_console_fallback=True)
    problem = recipients_problem(settings, list(channels))
    if problem:
        raise InputError(problem)
    delivery = resend(sessions, settings, channels, day, at)
    result = {
        "date": day.isoformat(),
        "sent": [
            {"person": a.person_id, "channel": a.channel, "address": a.address}
            for a in delivery.reached
        ],
        "failed": [
            {"person": a.person_id, "channel": a.channel, "error": a.error} for a in delivery.failed
        ],
        "not_reached": list(delivery.unreachable),
    }
    if output is DigestFormat.JSON:
        print_json(result)
    else:
        for a in delivery.reached:
            typer.echo(f"digest {day} sent to {a.person_id} by {a.channel} ({a.address})")
        for a in delivery.failed:
            typer.echo(f"digest {day} to {a.person_id} by {a.channel} failed: {a.error}")
        for person in delivery.unreachable:
            typer.echo(f"digest {day}: {person} was not reached")
    if delivery.unreachable:
        raise typer.Exit(1)


def self_contained(html: str, images: Sequence[InlineImage]) -> str:
    """The digest's HTML for a browser or a file: the charts that the email carries as
    attachments (``cid:``) put into the page as ``data:`` URIs, so nothing shows broken."""
    for image in images:
        data = base64.b64encode(image.png).decode("ascii")
        html = html.replace(f'src="cid:{image.cid}"', f'src="data:image/png;base64,{data}"')
    return html


def flat_figures(data: Any, path: str = "") -> list[tuple[str, object]]:
    """The figures as (dotted name, value) rows for a spreadsheet: ``totals.children``,
    ``suites.suite-a.case_reviews.good``; a list's items are numbered from 0."""
    if isinstance(data, dict):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(str(i), v) for i, v in enumerate(data)]
    else:
        return [(path, data)]
    rows: list[tuple[str, object]] = []
    for key, value in items:
        rows.extend(flat_figures(value, f"{path}.{key}" if path else key))
    return rows


def _date(text: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError(text)
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--date: not a date: {json.dumps(text)} (write it like 2026-06-11)"
        ) from None
    # The digest reaches back over its trend days and stores instants as UTC text: a date at
    # the edge of the calendar would overflow there rather than say what is wrong here.
    if not FIRST_YEAR < day.year < LAST_YEAR:
        raise InputError(f"--date: must be between the years {FIRST_YEAR + 1} and {LAST_YEAR - 1}")
    return day
