"""Retention on both databases with a fixed clock: what is past its period goes (a released
detention with everything that belongs to it, rejected rows, access and audit rows), in
batches of the configured size; open detentions, those with a live alert and everything
younger stay; the dry run counts exactly what a run deletes; each run leaves an audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.store import access, audit
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.retention import KINDS, Periods, due, run
from custody_watch.store.schema import (
    AccessRow,
    AlertNoteRow,
    AlertRow,
    AuditRow,
    DetentionRow,
    DetentionVersionRow,
    FindingRow,
    OutboxRow,
    QuarantineRow,
)

NOW = datetime(2032, 3, 1, 12, 0, tzinfo=UTC)
D = timedelta(days=1)
PERIODS = Periods(
    released_detentions=2190 * D, quarantine=90 * D, access_log=2190 * D, audit_log=2190 * D
)
LONG_AGO = NOW - 2191 * D  # past every six-year period
RECENT = NOW - 10 * D


@pytest.fixture
def sessions(fresh_engine: Engine) -> sessionmaker[Session]:
    upgrade(fresh_engine)
    return make_sessionmaker(fresh_engine)


def add_detention(
    session: Session,
    ref: str,
    released: datetime | None,
    *,
    alert_state: str | None = None,
    versions: int = 2,
) -> int:
    arrival = (released or NOW) - D
    row = DetentionRow(
        custody_ref=ref,
        source="suite-a",
        suite="suite-a",
        arrival_time=arrival,
        released_time=released,
        is_child=True,
        record={"custody_ref": ref},
        first_seen_at=arrival,
        last_changed_at=arrival,
    )
    session.add(row)
    session.flush()
    for n in range(versions):
        session.add(
            DetentionVersionRow(
                detention_id=row.id,
                source="suite-a",
                batch="day.csv",
                row=n + 1,
                received_at=arrival,
                record={"custody_ref": ref},
                became_current=True,
            )
        )
    if alert_state is not None:
        live = alert_state != "resolved"
        alert = AlertRow(
            subject=f"detention:{ref}",
            live_key=f"detention:{ref}" if live else None,
            detention_id=row.id,
            custody_ref=ref,
            state=alert_state,
            severity="critical",
            opened_severity="critical",
            ack_code=ref[-4:],
            opened_at=arrival,
            escalation={},
        )
        session.add(alert)
        session.flush()
        session.add(
            FindingRow(
                alert_id=alert.id,
                rule="pace_limit",
                severity="critical",
                since=arrival,
                detail="held too long",
                raised_at=arrival,
            )
        )
        session.add(
            OutboxRow(
                dedupe_key=f"alert:{alert.id}:1",
                alert_id=alert.id,
                purpose="notify",
                person_id="insp-a",
                channel="sms",
                address="+447700900001",
                body_text="page",
                state="sent",
                due_at=arrival,
                created_at=arrival,
                token=f"token-{ref}",
            )
        )
        session.add(AlertNoteRow(alert_id=alert.id, at=arrival, author="insp-a", text="seen"))
    return row.id


def refs(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(DetentionRow.custody_ref)))


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_released_detention_past_its_period_goes_with_all_that_belongs_to_it(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        add_detention(session, "OLD-1", LONG_AGO, alert_state="resolved")
        add_detention(session, "NEW-1", RECENT, alert_state="resolved")
    with sessions() as session:
        assert due(session, PERIODS, NOW) == {
            "detentions": 1,
            "detention_versions": 2,
            "alerts": 1,
            "findings": 1,
            "messages": 1,
            "alert_notes": 1,
            "quarantine": 0,
            "access_log": 0,
            "audit_log": 0,
        }
    counts = run(sessions, PERIODS, NOW)
    assert counts["detentions"] == 1 and counts["alerts"] == 1 and counts["messages"] == 1
    assert refs(sessions) == {"NEW-1"}
    for model in (AlertRow, FindingRow, OutboxRow, AlertNoteRow):
        assert count(sessions, model) == 1
    assert count(sessions, DetentionVersionRow) == 2


def test_open_detentions_and_live_alerts_are_kept_whatever_their_age(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        add_detention(session, "OPEN-1", None)  # still held (arrived six years ago or not)
        add_detention(session, "LIVE-1", LONG_AGO, alert_state="open")
        add_detention(session, "ACKED-1", LONG_AGO, alert_state="acknowledged")
        add_detention(session, "FUTURE-1", NOW + D)  # a release recorded ahead of time
        add_detention(session, "EDGE-1", NOW - 2190 * D)  # exactly the period: not past it
    with sessions() as session:
        assert due(session, PERIODS, NOW)["detentions"] == 0
    assert run(sessions, PERIODS, NOW)["detentions"] == 0
    assert refs(sessions) == {"OPEN-1", "LIVE-1", "ACKED-1", "FUTURE-1", "EDGE-1"}


@pytest.mark.parametrize("batch", [1, 2, 3, 1000])
def test_deletion_goes_in_batches_and_gets_everything(
    sessions: sessionmaker[Session], batch: int
) -> None:
    with sessions.begin() as session:
        for n in range(6):  # an exact multiple of 1, 2 and 3; less than one batch of 1000
            add_detention(session, f"OLD-{n}", LONG_AGO - n * D, versions=1)
        for n in range(5):
            session.add(
                QuarantineRow(
                    source="suite-a",
                    file="day.csv",
                    row=n,
                    error="arrival_time: required field missing",
                    raw="",
                    received_at=NOW - 91 * D,
                )
            )
        access.record(session, LONG_AGO, "alice", "OLD-0", "detention page", "127.0.0.1")
        access.record(session, RECENT, "alice", "OLD-0", "detention page", "127.0.0.1")
        audit.record(session, LONG_AGO, "opened")
        audit.record(session, RECENT, "resolved")
    periods = Periods(
        released_detentions=PERIODS.released_detentions,
        quarantine=PERIODS.quarantine,
        access_log=PERIODS.access_log,
        audit_log=PERIODS.audit_log,
        batch=batch,
    )
    with sessions() as session:
        expected = due(session, periods, NOW)
    counts = run(sessions, periods, NOW)
    assert counts == expected
    assert counts["detentions"] == 6 and counts["detention_versions"] == 6
    assert (counts["quarantine"], counts["access_log"], counts["audit_log"]) == (5, 1, 1)
    assert refs(sessions) == set()
    assert count(sessions, QuarantineRow) == 0
    assert count(sessions, AccessRow) == 1
    with sessions() as session:
        assert due(session, periods, NOW) == dict.fromkeys(KINDS, 0)


def test_each_run_leaves_an_audit_row_with_its_counts(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_detention(session, "OLD-1", LONG_AGO)
    run(sessions, PERIODS, NOW, actor="cli")
    run(sessions, PERIODS, NOW + D)
    with sessions() as session:
        rows = list(session.scalars(select(AuditRow).where(AuditRow.event == "retention")))
    assert [(r.actor, r.at) for r in rows] == [("cli", NOW), (audit.SYSTEM, NOW + D)]
    assert rows[0].detail.startswith("deleted 1 detentions, 2 detention_versions, 0 alerts")
    assert "released 2190d" in rows[0].detail
    assert rows[1].detail.startswith("deleted 0 detentions")


def test_the_quarantine_keeps_what_is_younger_than_its_period(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        for age in (89, 91):
            session.add(
                QuarantineRow(
                    source="suite-a",
                    file=f"{age}.csv",
                    row=1,
                    error="x",
                    raw="",
                    received_at=NOW - age * D,
                )
            )
    assert run(sessions, PERIODS, NOW)["quarantine"] == 1
    with sessions() as session:
        assert list(session.scalars(select(QuarantineRow.file))) == ["89.csv"]
