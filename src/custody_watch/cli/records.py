"""``quarantine``, ``audit``, ``sources`` and ``import``: what the store holds and where it
came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.cli.app import (
    ConfigOption,
    ExportFormat,
    ExportFormatOption,
    FormatOption,
    OutputFormat,
    app,
)
from custody_watch.cli.common import TIME_HELP, clock_for, open_store, print_csv, print_json
from custody_watch.cli.tables import stdout
from custody_watch.config import load_settings, rules_policy
from custody_watch.daemon.backfill import (
    EarlierImport,
    Imported,
    content_key,
    import_feed,
    imported_before,
    mark_imported,
    workers_for,
)
from custody_watch.ingest.files import FeedFormat, feed_format, feed_text, read_feed_bytes
from custody_watch.ingest.prepare import Zones
from custody_watch.ingest.workers import Preparers, default_workers
from custody_watch.redact import redact_urls
from custody_watch.sources.freshness import freshness
from custody_watch.store import audit as audit_store
from custody_watch.store import quarantine as quarantine_store
from custody_watch.store import sources as source_store
from custody_watch.times import format_duration, format_local, parse_zone
from custody_watch.times import utc_z_or_none as z

# The JSON's fields, in its order, as CSV columns.
QUARANTINE_FIELDS = ("source", "file", "row", "custody_ref", "error", "received_at")
AUDIT_FIELDS = ("at", "alert_id", "custody_ref", "event", "actor", "detail")


@app.command()
def quarantine(
    config: ConfigOption = None, output: ExportFormatOption = ExportFormat.TABLE
) -> None:
    """Rows that were rejected, with source, row, custody ref and reason."""
    settings = load_settings(config)
    with open_store(settings)() as session:
        rows = quarantine_store.listing(session)
    data = [
        {
            "source": r.source,
            "file": r.file,
            "row": r.row,
            "custody_ref": r.custody_ref,
            "error": r.error,
            "received_at": z(r.received_at),
        }
        for r in rows
    ]
    if output is ExportFormat.JSON:
        print_json({"rejected": data})
        return
    if output is ExportFormat.CSV:
        print_csv(list(QUARANTINE_FIELDS), ([d[k] for k in QUARANTINE_FIELDS] for d in data))
        return
    zone = parse_zone(settings.timezone)
    table = Table(title=f"{len(data)} rejected rows", title_justify="left")
    for column in ("received", "source", "file", "row", "custody ref", "error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            format_local(r.received_at, zone),
            r.source,
            r.file,
            str(r.row),
            r.custody_ref or "-",
            r.error,
        )
    stdout().print(table)


@app.command()
def audit(
    config: ConfigOption = None,
    ref: Annotated[str | None, typer.Option("--ref", help="Only this custody ref.")] = None,
    output: ExportFormatOption = ExportFormat.TABLE,
) -> None:
    """The audit log, oldest first."""
    settings = load_settings(config)
    with open_store(settings)() as session:
        events = audit_store.events(session, custody_ref=ref)
    data = [
        {
            "at": z(e.at),
            "alert_id": e.alert_id,
            "custody_ref": e.custody_ref,
            "event": e.event,
            "actor": e.actor,
            "detail": e.detail,
        }
        for e in events
    ]
    if output is ExportFormat.JSON:
        print_json({"events": data})
        return
    if output is ExportFormat.CSV:
        print_csv(list(AUDIT_FIELDS), ([d[k] for k in AUDIT_FIELDS] for d in data))
        return
    zone = parse_zone(settings.timezone)
    table = Table(title=f"{len(data)} events", title_justify="left")
    for column in ("at", "alert", "custody ref", "event", "actor", "detail"):
        table.add_column(column, overflow="fold")
    for e in events:
        table.add_row(
            format_local(e.at, zone),
            str(e.alert_id or "-"),
            e.custody_ref or "-",
            e.event,
            e.actor,
            e.detail,
        )
    stdout().print(table)


@app.command()
def sources(
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.TABLE,
    now: Annotated[
        str | None,
        typer.Option("--now", metavar="TIME", help=f"Judge freshness as of TIME. {TIME_HELP}"),
    ] = None,
) -> None:
    """The health of each source: last poll, last success, last data, last error."""
    settings = load_settings(config)
    at = clock_for(now).now()
    with open_store(settings)() as session:
        states = {s.name: s for s in source_store.all_states(session)}
    data = []
    for configured in settings.sources:
        s = states.get(configured.name)
        fresh = freshness(s, configured, at)  # the daemon's feed_stale judges the same way
        behind = fresh.lag(at)
        data.append(
            {
                "name": configured.name,
                "kind": configured.kind,
                "status": str(fresh.status),
                "reason": fresh.reason,
                "last_poll_at": z(s.last_poll_at) if s else None,
                "last_success_at": z(s.last_success_at) if s else None,
                "last_data_at": z(s.last_data_at) if s else None,
                # Rows kept before errors were redacted at the source may quote a URL.
                "last_error": redact_urls(s.last_error) if s and s.last_error else None,
                "last_error_at": z(s.last_error_at) if s else None,
                "failures": s.failures if s else 0,
                "rows_read": s.rows_read if s else 0,
                "rows_rejected": s.rows_rejected if s else 0,
                "lag_seconds": None if behind is None else int(behind.total_seconds()),
            }
        )
    if output is OutputFormat.JSON:
        print_json({"sources": data})
        return
    table = Table(title="Sources", title_justify="left")
    columns = ("name", "kind", "status", "last heard", "rows", "rejected", "failures")
    for column in (*columns, "last error"):
        table.add_column(column, overflow="fold")
    for item in data:
        lag = item["lag_seconds"]
        assert lag is None or isinstance(lag, int)
        table.add_row(
            str(item["name"]),
            str(item["kind"]),
            f"stale: {item['reason']}" if item["status"] == "stale" else str(item["status"]),
            "never" if lag is None else f"{format_duration(timedelta(seconds=lag))} ago",
            str(item["rows_read"]),
            str(item["rows_rejected"]),
            str(item["failures"]),  # polls failed in a row since the last success
            str(item["last_error"] or "-"),
        )
    stdout().print(table)


@app.command("import")
def import_history(
    records: Annotated[Path, typer.Argument(help="A .csv or .jsonl file of past custody records.")],
    config: ConfigOption = None,
    source: Annotated[
        str, typer.Option("--source", help="Source name to file them under.")
    ] = "import",
    now: Annotated[
        str | None,
        typer.Option("--now", metavar="TIME", help=f"Record them as received at TIME. {TIME_HELP}"),
    ] = None,
    naive_timezone: Annotated[str | None, typer.Option("--naive-timezone")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=0, help="Processes that read rows while one stores them [cores - 1]."
        ),
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Import a file whose content was imported before.")
    ] = False,
) -> None:
    """Backfill history so trends have data from the first day.

    1. Read the file whole, and know it by its content.
    2. A file imported before is not imported again, unless ``--again``.
    3. Import it, worker processes reading while this one stores, behind a progress bar.
    4. Remember the file as imported, and say what was done."""
    settings = load_settings(config)
    policy = rules_policy(settings)
    at = clock_for(now).now()
    fmt = feed_format(records)
    data = read_feed_bytes(records)
    key, text = content_key(data), feed_text(records, data)
    del data  # the text is what is kept; a year's history is hundreds of megabytes
    sessions = open_store(settings)
    earlier = imported_before(sessions, source, key)
    if earlier is not None and not again:
        typer.echo(_already_imported(records.name, earlier, parse_zone(settings.timezone)))
        return
    feed = _Feed(source, records.name, text, fmt)
    zones = Zones(parse_zone(naive_timezone) if naive_timezone else None, policy.zone)
    wanted = default_workers() if workers is None else workers
    imported = _import_with_progress(sessions, feed, zones, at, workers_for(len(text), wanted))
    mark_imported(sessions, source, key, records.name, imported, at)
    typer.echo(
        f"imported {records.name}: {imported.rows} rows, {imported.changed} detentions stored "
        f"or updated, {imported.rejected} rejected"
    )


@dataclass(frozen=True, slots=True)
class _Feed:
    source: str
    label: str
    text: str
    fmt: FeedFormat


def _already_imported(name: str, earlier: EarlierImport, zone: tzinfo) -> str:
    return (
        f"{name}: already imported at {format_local(earlier.at, zone)} as {earlier.label} "
        f"({earlier.rows} rows, {earlier.rejected} rejected); nothing done (--again imports "
        "it again)"
    )


def _import_with_progress(
    sessions: sessionmaker[Session], feed: _Feed, zones: Zones, at: datetime, workers: int
) -> Imported:
    with Preparers(workers) as preparers, Progress(transient=True) as progress:
        task = progress.add_task(f"importing {feed.label}", total=len(feed.text))
        return import_feed(
            sessions,
            source=feed.source,
            label=feed.label,
            text=feed.text,
            fmt=feed.fmt,
            zones=zones,
            now=at,
            preparers=preparers,
            progress=lambda characters: progress.advance(task, characters),
        )
