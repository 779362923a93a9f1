"""The access log: rows written and read back by filter, and the audit and access tables
append-only through the application (ORM changes, deletions and bulk statements refused; the
retention job's marked DELETE the one way out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select, update

from custody_watch.store import access, audit
from custody_watch.store.access import RETENTION, AppendOnlyError
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AccessRow, AuditRow

T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.fixture
def sessions(fresh_engine: Engine):
    upgrade(fresh_engine)
    made = make_sessionmaker(fresh_engine)
    with made.begin() as session:
        access.record(session, T0, "alice", "C-1", "detention page", "127.0.0.1")
        access.record(session, T0 + M, "victor", "C-1", "api record", "10.0.0.9")
        access.record(session, T0 + 2 * M, "alice", "C-2", "detention page", "127.0.0.1")
        audit.record(session, T0, "opened", detail="critical", custody_ref="C-1")
    return made


def test_rows_come_back_oldest_first_and_by_filter(sessions) -> None:
    with sessions() as session:
        everything = [access.as_json(r) for r in access.accesses(session)]
        assert everything[0] == {
            "at": "2026-01-14T10:00:00Z",
            "user": "alice",
            "custody_ref": "C-1",
            "what": "detention page",
            "from": "127.0.0.1",
        }
        assert [r["user"] for r in everything] == ["alice", "victor", "alice"]
        assert len(access.accesses(session, custody_ref="C-1")) == 2
        assert [r.custody_ref for r in access.accesses(session, actor="alice")] == ["C-1", "C-2"]
        assert [r.actor for r in access.accesses(session, since=T0 + M)] == ["victor", "alice"]
        newest = access.accesses(session, newest_first=True, limit=1)
        assert [r.custody_ref for r in newest] == ["C-2"]


def test_a_digest_logs_one_row_per_child_named_once(sessions) -> None:
    with sessions.begin() as session:
        count = access.record_many(
            session, T0, access.DIGEST_ACTOR, ["C-3", "C-4", "C-3"], "digest sent", "insp-a"
        )
    assert count == 2
    with sessions() as session:
        rows = access.accesses(session, actor="digest")
        assert [(r.custody_ref, r.address) for r in rows] == [("C-3", "insp-a"), ("C-4", "insp-a")]


@pytest.mark.parametrize("table", [AccessRow, AuditRow])
def test_a_logged_row_cannot_be_changed_through_the_orm(sessions, table) -> None:
    with pytest.raises(AppendOnlyError, match="append-only"), sessions.begin() as session:
        row = session.scalars(select(table)).first()
        assert row is not None
        row.actor = "someone else"
    with pytest.raises(AppendOnlyError, match="append-only"), sessions.begin() as session:
        row = session.scalars(select(table)).first()
        session.delete(row)
    with sessions() as session:
        assert "someone else" not in {r.actor for r in session.scalars(select(table))}


@pytest.mark.parametrize("table", [AccessRow, AuditRow])
def test_a_logged_table_refuses_update_and_delete_statements(sessions, table) -> None:
    before = _count(sessions, table)
    with pytest.raises(AppendOnlyError), sessions.begin() as session:
        session.execute(update(table).values(actor="x"))
    with pytest.raises(AppendOnlyError), sessions.begin() as session:
        session.execute(delete(table))
    with pytest.raises(AppendOnlyError), sessions.begin() as session:
        access.allow_retention_delete(session)  # even so, never an UPDATE
        session.execute(update(table).values(actor="x").execution_options(**{RETENTION: True}))
    with pytest.raises(AppendOnlyError), sessions.begin() as session:
        access.allow_retention_delete(session)  # and never an unmarked DELETE
        session.execute(delete(table))
    assert _count(sessions, table) == before
    with sessions() as session:
        assert "x" not in {r.actor for r in session.scalars(select(table))}


def test_only_the_retention_jobs_marked_delete_removes_logged_rows(sessions) -> None:
    with sessions.begin() as session:
        access.allow_retention_delete(session)
        session.execute(
            delete(AccessRow).where(AccessRow.at < T0 + M).execution_options(**{RETENTION: True})
        )
    assert _count(sessions, AccessRow) == 2


def test_new_rows_are_still_added_alongside(sessions) -> None:
    with sessions.begin() as session:
        access.record(session, T0 + 3 * M, "alice", "C-1", "detention page", None)
        audit.record(session, T0 + 3 * M, "resolved")
    assert _count(sessions, AccessRow) == 4
    assert _count(sessions, AuditRow) == 2


def _count(sessions, table) -> int:
    with sessions() as session:
        return len(list(session.scalars(select(table))))


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["access_log", "audit_log"])
def test_on_postgresql_even_plain_sql_cannot_change_or_delete_logged_rows(
    postgres_schema_url: str, table: str
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from custody_watch.store.db import make_engine

    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    made = make_sessionmaker(engine)
    with made.begin() as session:
        access.record(session, T0, "alice", "C-1", "detention page", "127.0.0.1")
        audit.record(session, T0, "opened")
    for statement in (f"UPDATE {table} SET actor = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    engine.dispose()
