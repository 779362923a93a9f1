"""The store's schema on both databases: migrations create exactly what ``schema.py``
declares and can run again; instants come back as aware UTC; the database itself keeps a
subject to one live alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import current_revision, head_revision, upgrade
from custody_watch.store.schema import AlertRow, AuditRow, Base, OutboxRow

T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
SUMMER = timezone(timedelta(hours=1), "BST")


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_creates_every_table_the_schema_declares(fresh_engine: Engine):
    assert tables(fresh_engine) == set()
    upgrade(fresh_engine)
    assert tables(fresh_engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(fresh_engine) == head_revision()


def test_every_column_of_the_schema_exists_after_upgrade(fresh_engine: Engine):
    upgrade(fresh_engine)
    inspector = inspect(fresh_engine)
    for name, table in Base.metadata.tables.items():
        have = {column["name"] for column in inspector.get_columns(name)}
        assert have == {column.name for column in table.columns}, name


def test_the_migrated_database_matches_the_schema_exactly(fresh_engine: Engine):
    upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent(fresh_engine: Engine):
    upgrade(fresh_engine)
    with make_sessionmaker(fresh_engine).begin() as session:
        session.add(AuditRow(at=T0, event="opened", actor="test", detail="kept"))
    upgrade(fresh_engine)
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
    with make_sessionmaker(fresh_engine)() as session:
        assert list(session.scalars(select(AuditRow.detail))) == ["kept"]


# --- UtcDateTime -----------------------------------------------------------------------


@pytest.fixture
def migrated(fresh_engine: Engine) -> Engine:
    upgrade(fresh_engine)
    return fresh_engine


def stored_at(engine: Engine, at: datetime) -> datetime:
    with make_sessionmaker(engine).begin() as session:
        session.add(AuditRow(at=at, event="e", actor="test"))
    with make_sessionmaker(engine)() as session:
        value = session.scalars(select(AuditRow.at)).one()
    return value


def test_an_aware_utc_instant_comes_back_aware_and_utc(migrated: Engine):
    value = stored_at(migrated, T0)
    assert value == T0
    assert value.utcoffset() == timedelta(0)


def test_an_instant_with_another_offset_comes_back_as_the_same_instant_in_utc(
    migrated: Engine,
):
    local = datetime(2026, 6, 10, 9, 30, 15, 250000, tzinfo=SUMMER)
    value = stored_at(migrated, local)
    assert value == local
    assert (value.hour, value.minute, value.microsecond, value.utcoffset()) == (
        8,
        30,
        250000,
        timedelta(0),
    )


def test_a_naive_datetime_is_refused(migrated: Engine):
    with pytest.raises(StatementError) as caught, Session(migrated) as session:
        session.add(AuditRow(at=datetime(2026, 1, 14, 10, 0), event="e", actor="test"))
        session.flush()
    assert isinstance(caught.value.orig, ValueError)
    assert "naive datetime" in str(caught.value.orig)


def test_a_naive_datetime_is_refused_in_a_query_too(migrated: Engine):
    with pytest.raises(StatementError), Session(migrated) as session:
        session.scalars(select(AuditRow).where(AuditRow.at < datetime(2026, 1, 14))).all()


def test_instants_compare_as_instants_whatever_offset_they_were_written_with(
    migrated: Engine,
):
    with make_sessionmaker(migrated).begin() as session:
        session.add(AuditRow(at=T0, event="utc", actor="test"))
        session.add(
            AuditRow(at=T0.astimezone(SUMMER) + timedelta(minutes=1), event="bst", actor="t")
        )
    with make_sessionmaker(migrated)() as session:
        ordered = session.scalars(select(AuditRow.event).order_by(AuditRow.at)).all()
        later = session.scalars(select(AuditRow.event).where(AuditRow.at > T0)).all()
    assert ordered == ["utc", "bst"]
    assert later == ["bst"]


# --- one live alert per subject --------------------------------------------------------


def alert(subject: str, *, live: bool, code: str) -> AlertRow:
    return AlertRow(
        subject=subject,
        live_key=subject if live else None,
        custody_ref="C-1",
        state="open" if live else "resolved",
        severity="high",
        opened_severity="high",
        summary="",
        ack_code=code,
        live_ack_code=code if live else None,
        opened_at=T0,
        escalation={},
    )


def test_the_database_refuses_a_second_live_alert_for_one_subject(migrated: Engine):
    sessions = make_sessionmaker(migrated)
    with sessions.begin() as session:
        session.add(alert("detention:C-1", live=True, code="1111"))
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(alert("detention:C-1", live=True, code="2222"))
    with sessions() as session:
        assert session.scalars(select(AlertRow.ack_code)).all() == ["1111"]


def test_resolved_alerts_free_the_subject_for_a_new_live_one(migrated: Engine):
    sessions = make_sessionmaker(migrated)
    with sessions.begin() as session:
        session.add(alert("detention:C-1", live=False, code="1111"))
        session.add(alert("detention:C-1", live=False, code="2222"))
        session.add(alert("detention:C-1", live=True, code="3333"))
    with sessions() as session:
        assert len(session.scalars(select(AlertRow.id)).all()) == 3


def test_the_database_refuses_one_ack_code_on_two_live_alerts(migrated: Engine):
    sessions = make_sessionmaker(migrated)
    with sessions.begin() as session:
        session.add(alert("detention:C-1", live=True, code="1111"))
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(alert("detention:C-2", live=True, code="1111"))


# --- 0005: provider text unbounded --------------------------------------------------------


def test_rows_from_before_0005_keep_their_values_and_take_a_provider_id_of_any_length(
    fresh_engine: Engine,
):
    """The column that broke PostgreSQL (an SMTP Message-ID of 72 characters against
    varchar(64)) is unbounded after the upgrade; rows already there are not exhausted."""
    upgrade(fresh_engine, "0004")
    with fresh_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox (dedupe_key, purpose, person_id, channel, address, subject,"
                " body_text, state, due_at, created_at, attempts, max_attempts, token)"
                " VALUES ('k', 'notify', 'insp-a', 'email', 'a@example.org', '', 'b', 'failed',"
                " :at, :at, 5, 5, 't')"
            ),
            {"at": "2026-01-14 10:00:00.000000" if fresh_engine.dialect.name == "sqlite" else T0},
        )
    upgrade(fresh_engine)
    message_id = "<" + "1" * 40 + ".custody-watch@alerts.custody-suites.example.police.uk>"
    assert len(message_id) > 64
    with make_sessionmaker(fresh_engine).begin() as session:
        row = session.scalars(select(OutboxRow)).one()
        assert (row.state, row.attempts, row.exhausted) == ("failed", 5, False)
        row.provider_id = message_id
    with make_sessionmaker(fresh_engine)() as session:
        assert session.scalars(select(OutboxRow.provider_id)).one() == message_id


def test_detentions_stored_before_0007_get_their_person_ref_from_the_record(
    fresh_engine: Engine,
):
    upgrade(fresh_engine, "0006")
    long = "P-" + "x" * 80  # older readers had no limit here
    with fresh_engine.begin() as conn:
        for n, person in enumerate(["P-1", None, long], 1):
            record = {"custody_ref": f"C-{n}", "suite": "S1"}
            if person is not None:
                record["person_ref"] = person
            conn.execute(
                text(
                    "INSERT INTO detentions (id, custody_ref, source, suite, arrival_time,"
                    " is_child, record, first_seen_at, last_changed_at) VALUES (:id, :ref, 's',"
                    " 'S1', :at, false, :record, :at, :at)"
                ),
                {
                    "id": n,
                    "ref": f"C-{n}",
                    "at": "2026-06-10 12:00:00.000000",
                    "record": json.dumps(record),
                },
            )
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        found = dict(conn.execute(text("SELECT custody_ref, person_ref FROM detentions")).all())
    assert found == {"C-1": "P-1", "C-2": None, "C-3": long[:64]}
