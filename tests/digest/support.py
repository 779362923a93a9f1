"""A store on a SQLite file, filled through the real store code, for digest tests.

Records go in with ``daemon.poll.store_rows`` (the path every feed takes); alerts, failed
sends and feed failures are written as the daemon writes them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

# Registers the ``digest`` command on the app (custody_watch.cli imports it once wired).
import custody_watch.cli.digest  # noqa: F401
from custody_watch.config import Settings, read_settings, rules_policy
from custody_watch.daemon.poll import store_rows
from custody_watch.rules.policy import Policy
from custody_watch.sources.base import SourceRow
from custody_watch.store import audit
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AlertRow, FindingRow, OutboxRow
from custody_watch.times import parse_instant

CONFIG = """
timezone = "Europe/London"

[database]
url = "{database}"

[[sources]]
name = "suite-a"
kind = "csv_folder"
path = "{inbox}"

[channels.console]
kind = "console"
{channels}
[[people]]
id = "insp-a"
name = "Insp. A. Example"
phone = "+447700900001"

[[people]]
id = "supt-b"
name = "Supt. B. Example"
phone = "+447700900002"
email = "supt.b@example.police.uk"

[[people]]
id = "chief-c"
name = "Ch. Supt. C. Example"
email = "chief.c@example.police.uk"

[[rota]]
role = "duty_inspector"
person = "insp-a"

[digest]
at = "07:00"
recipients = [{recipients}]
"""


@dataclass
class Store:
    config: Path
    settings: Settings
    sessions: sessionmaker[Session]

    @property
    def policy(self) -> Policy:
        return rules_policy(self.settings)


def make_store(
    tmp_path: Path,
    *,
    recipients: Sequence[str] = ("supt-b",),
    channels: Mapping[str, Mapping[str, Any]] | None = None,
    name: str = "cw.db",
) -> Store:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    tables = ""
    for channel, table in (channels or {}).items():
        tables += f"\n[channels.{channel}]\n"
        tables += "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    config = tmp_path / "custody-watch.toml"
    config.write_text(
        CONFIG.format(
            database=f"sqlite:///{tmp_path / name}",
            inbox=inbox,
            channels=tables,
            recipients=", ".join(json.dumps(r) for r in recipients),
        ),
        encoding="utf-8",
    )
    settings = read_settings(config)
    engine = make_engine(settings.database.url)
    upgrade(engine)
    return Store(config, settings, make_sessionmaker(engine))


def t(text: str) -> datetime:
    return parse_instant(text)


def put_records(
    store: Store,
    records: Iterable[Mapping[str, str]],
    received: str,
    *,
    source: str = "suite-a",
    label: str = "day.csv",
) -> tuple[int, int]:
    """Store records (interchange field names, text values) as one feed batch, as if
    received at ``received``; a row that fails the feed checks is quarantined."""
    rows = [
        SourceRow(number=i, values=dict(values), raw=_csv(values))
        for i, values in enumerate(records, start=1)
    ]
    return store_rows(
        store.sessions, source, label, rows, None, store.policy, parse_instant(received)
    )


def _csv(values: Mapping[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values.values())
    return out.getvalue()


def add_alert(
    store: Store,
    *,
    subject: str,
    opened_at: str,
    severity: str,
    custody_ref: str | None = None,
    suite: str | None = None,
    force: str | None = None,
    notified_at: str | None = None,
    acknowledged_at: str | None = None,
    resolved_at: str | None = None,
    rule: str = "child_detention_duration",
    since: str | None = None,
    ack_code: str = "0000",
) -> int:
    opened = t(opened_at)
    with store.sessions.begin() as session:
        alert = AlertRow(
            subject=subject,
            live_key=None if resolved_at else subject,
            custody_ref=custody_ref,
            suite=suite,
            force=force,
            state="resolved" if resolved_at else ("acknowledged" if acknowledged_at else "open"),
            severity=severity,
            opened_severity=severity,
            summary="",
            ack_code=ack_code,
            live_ack_code=None if resolved_at else ack_code,
            opened_at=opened,
            first_notified_at=t(notified_at) if notified_at else None,
            acknowledged_at=t(acknowledged_at) if acknowledged_at else None,
            acknowledged_by="insp-a" if acknowledged_at else None,
            first_acknowledged_at=t(acknowledged_at) if acknowledged_at else None,
            resolved_at=t(resolved_at) if resolved_at else None,
            escalation={},
            level=0,
            step=0,
            version=0,
        )
        session.add(alert)
        session.flush()
        session.add(
            FindingRow(
                alert_id=alert.id,
                rule=rule,
                severity=severity,
                since=t(since) if since else opened,
                detail="",
                raised_at=opened,
                cleared_at=t(resolved_at) if resolved_at else None,
            )
        )
        audit.record(session, opened, "opened", alert_id=alert.id, custody_ref=custody_ref)
        return alert.id


def add_failed_send(store: Store, alert_id: int | None, due_at: str, key: str) -> None:
    with store.sessions.begin() as session:
        session.add(
            OutboxRow(
                dedupe_key=key,
                alert_id=alert_id,
                purpose="notify",
                person_id="insp-a",
                channel="sms",
                address="+447700900001",
                level=0,
                subject="",
                body_text="page",
                body_html=None,
                state="failed",
                due_at=t(due_at),
                created_at=t(due_at),
                attempts=5,
                max_attempts=5,
                last_error="21211 invalid number",
                token=f"token-{key}",
            )
        )


def add_source_failure(store: Store, source: str, at: str, error: str) -> None:
    with store.sessions.begin() as session:
        audit.record(session, t(at), "source_failed", detail=f"{source}: {error}")
