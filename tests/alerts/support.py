"""A real store and an alert context like the example config, shared by the alert and
dispatch tests (``from alerts.support import ...``).

The store is a SQLite file migrated by the program's own ``upgrade``; the context has the
example config's channels, people, rota and ladders (shared/spec/config-example.toml)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts import escalate, lifecycle
from custody_watch.alerts.deps import AlertDeps, Directory, Person
from custody_watch.alerts.effects import carry_out
from custody_watch.alerts.lifecycle import Subject
from custody_watch.domain import Detention, Finding, Severity
from custody_watch.escalation.ladders import Ladder, Ladders, Level
from custody_watch.escalation.rota import Rota, Shift
from custody_watch.store import detentions
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AlertRow, AuditRow, FindingRow, OutboxRow
from custody_watch.times import LONDON

M = timedelta(minutes=1)
H = timedelta(hours=1)

# Wednesday 14 January 2026, 10:00 GMT: a weekday morning far from any clock change.
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
ARRIVAL = T0 - 16 * H

SMS, EMAIL = "sms", "email"
CHANNEL_KINDS: dict[str, Any] = {SMS: "phone", EMAIL: "email"}

INSP_A = Person(
    "insp-a", "Insp. A. Example", phone="+447700900001", email="insp.a@example.police.uk"
)
SUPT_B = Person(
    "supt-b", "Supt. B. Example", phone="+447700900002", email="supt.b@example.police.uk"
)
OPS = Person("ops", "Force control room", email="control.room@example.police.uk")
PEOPLE = {p.id: p for p in (INSP_A, SUPT_B, OPS)}

ALWAYS_ON = (
    Shift("duty_inspector", "insp-a"),
    Shift("superintendent", "supt-b"),
    Shift("operations", "ops"),
)

CHILD_REF = "P-7781-ZX"  # pseudonymous person reference: must never reach a message
CHILD_DOB = date(2010, 6, 1)  # fifteen on T0


def example_ladders(channels: Sequence[str] = (SMS, EMAIL)) -> Ladders:
    """The example config's [escalation] tables (a fresh dict every time)."""
    ch = tuple(channels)
    return {
        Severity.WARNING: Ladder(levels=(Level(("duty_inspector",), ch),)),
        Severity.HIGH: Ladder(
            levels=(
                Level(("duty_inspector",), ch, wait=15 * M),
                Level(("superintendent",), ch, wait=30 * M),
            ),
            repeat_every=30 * M,
        ),
        Severity.CRITICAL: Ladder(
            levels=(
                Level(("duty_inspector",), ch, wait=10 * M),
                Level(("duty_inspector", "superintendent"), ch, wait=15 * M),
            ),
            repeat_every=15 * M,
        ),
    }


def make_context(
    *,
    ladders: Ladders | None = None,
    shifts: Iterable[Shift] = ALWAYS_ON,
    max_attempts: int = 5,
) -> AlertDeps:
    return AlertDeps(
        ladders=example_ladders() if ladders is None else ladders,
        directory=Directory(
            people=dict(PEOPLE),
            rota=Rota(shifts=tuple(shifts), zone=LONDON),
            channel_kinds=dict(CHANNEL_KINDS),
        ),
        zone=LONDON,
        max_attempts=max_attempts,
    )


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]


def make_store(path: Path) -> Store:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return Store(engine, make_sessionmaker(engine))


def add_detention(session: Session, custody_ref: str = "C-1", **fields: Any) -> int:
    values: dict[str, Any] = {
        "suite": "suite-a",
        "arrival_time": ARRIVAL,
        "person_ref": CHILD_REF,
        "date_of_birth": CHILD_DOB,
    }
    values.update(fields)
    detention = Detention(custody_ref=custody_ref, **values)
    detentions.record_version(
        session, source="suite-a", batch="test", row=1, detention=detention, is_child=True, now=T0
    )
    session.flush()
    row = detentions.by_ref(session, custody_ref)
    assert row is not None
    return row.id


def finding(
    severity: Severity,
    rule: str = "child_detention_duration",
    *,
    ref: str = "C-1",
    since: datetime = T0,
    detail: str = "held 16h",
) -> Finding:
    return Finding(custody_ref=ref, rule=rule, severity=severity, since=since, detail=detail)


def sync(
    session: Session,
    ctx: AlertDeps,
    now: datetime,
    findings: Sequence[Finding],
    *,
    ref: str = "C-1",
    detention_id: int | None = None,
) -> AlertRow | None:
    """What the daemon does for one detention after evaluating it: decide, then act."""
    subject = Subject(
        f"detention:{ref}", detention_id=detention_id, custody_ref=ref, suite="suite-a"
    )
    transition = lifecycle.sync(session, subject, findings, ctx, now)
    carry_out(session, transition, ctx, now)
    return None if transition.resolved else transition.alert


def escalate_due(session: Session, alert: AlertRow, ctx: AlertDeps, now: datetime) -> None:
    """What the daemon does for an alert whose next step is due: decide, then act."""
    carry_out(session, escalate.escalate(session, alert, ctx, now), ctx, now)


def outbox(session: Session, **equal: Any) -> list[OutboxRow]:
    query = select(OutboxRow).order_by(OutboxRow.id)
    for name, value in equal.items():
        query = query.where(getattr(OutboxRow, name) == value)
    return list(session.scalars(query))


def sent_to(rows: Iterable[OutboxRow]) -> list[tuple[str, str]]:
    """(person, channel) of rows, in order."""
    return [(row.person_id, row.channel) for row in rows]


def mark_sent(session: Session, at: datetime) -> None:
    """What a dispatcher would do with every pending message (alert tests only)."""
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "pending")
        .values(state="sent", sent_at=at, attempts=1)
    )


def audit_events(session: Session, alert_id: int | None = None) -> list[str]:
    query = select(AuditRow.event).order_by(AuditRow.id)
    if alert_id is not None:
        query = query.where(AuditRow.alert_id == alert_id)
    return list(session.scalars(query))


def findings_of(session: Session, alert_id: int) -> dict[str, tuple[str, datetime | None]]:
    """rule -> (severity, cleared_at)."""
    rows = session.scalars(select(FindingRow).where(FindingRow.alert_id == alert_id))
    return {row.rule: (row.severity, row.cleared_at) for row in rows}


def live_alert(session: Session, subject: str) -> AlertRow | None:
    return lifecycle.live_alert(session, subject)
