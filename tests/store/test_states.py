"""Alert and outbox states are ``StrEnum`` columns: stored as the same strings as ever (so
old rows, JSON and CLI output read as before), read back as members, and a state that does
not exist is refused before it reaches the database. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError

from custody_watch.domain.states import AlertState, OutboxState
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.outbox import Body, Route, pending
from custody_watch.store.schema import AlertRow, OutboxRow

T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


@pytest.fixture
def migrated(fresh_engine: Engine) -> Engine:
    upgrade(fresh_engine)
    return fresh_engine


def an_alert(state: str) -> AlertRow:
    return AlertRow(
        subject="detention:C-1",
        live_key=None,
        custody_ref="C-1",
        state=state,
        severity="high",
        opened_severity="high",
        summary="",
        ack_code="1234",
        opened_at=T0,
        escalation={},
    )


def test_a_state_is_stored_as_its_string_and_read_back_as_the_enum(migrated: Engine):
    sessions = make_sessionmaker(migrated)
    with sessions.begin() as session:
        session.add(an_alert(AlertState.ACKNOWLEDGED))
        session.add(
            pending(Route("k", None, "ops_notice", "ops", "sms", "+44"), Body("s", "b"), 5, T0)
        )
    with migrated.connect() as connection:
        stored = connection.execute(text("SELECT state FROM alerts")).scalar_one()
        queued = connection.execute(text("SELECT state FROM outbox")).scalar_one()
    assert (type(stored), stored, queued) == (str, "acknowledged", "pending")
    with sessions() as session:
        assert session.scalars(select(AlertRow.state)).one() is AlertState.ACKNOWLEDGED
        assert session.scalars(select(OutboxRow.state)).one() is OutboxState.PENDING


def test_a_row_written_as_a_plain_string_reads_as_the_same_state(migrated: Engine):
    sessions = make_sessionmaker(migrated)
    with sessions.begin() as session:
        session.add(an_alert("resolved"))
    with sessions() as session:
        assert session.scalars(select(AlertRow.state)).one() is AlertState.RESOLVED


def test_a_state_that_does_not_exist_is_refused(migrated: Engine):
    sessions = make_sessionmaker(migrated)
    with pytest.raises(StatementError, match="closed"), sessions.begin() as session:
        session.add(an_alert("closed"))
