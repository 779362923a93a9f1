"""Storing versions of detentions, on both databases: SQLite goes through the driver's
executemany and PostgreSQL through Core statements, and both must keep the same rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.digest import collect
from custody_watch.ingest.prepare import PreparedRow, Zones, prepare_rows
from custody_watch.sources.base import SourceRow
from custody_watch.store import detentions
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import DetentionRow, DetentionVersionRow
from custody_watch.times import from_utc_text, utc_text
from custody_watch.web import board, metrics

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night the clocks go forward
BST = timezone(timedelta(hours=1))
DAY = timedelta(days=1)


@pytest.fixture
def sessions(fresh_engine: Engine) -> Iterator[sessionmaker[Session]]:
    upgrade(fresh_engine)
    yield make_sessionmaker(fresh_engine)


def prepared(*records: dict[str, object]) -> list[PreparedRow]:
    rows = [SourceRow(n, values, json.dumps(values)) for n, values in enumerate(records, 1)]
    result = prepare_rows(rows, Zones())
    assert result.rejected == []
    return result.accepted


def record(ref: str = "C-1", **fields: object) -> dict[str, object]:
    values: dict[str, object] = {
        "custody_ref": ref,
        "suite": "suite-a",
        "force": "force-x",
        "arrival_time": "2026-03-29T00:30:00Z",
        "date_of_birth": "2011-05-02",
    }
    values.update(fields)
    return values


def store(sessions: sessionmaker[Session], items: list[PreparedRow], at: datetime = NOW) -> int:
    with sessions.begin() as session:
        return detentions.record_versions(
            session, source="feed", batch="file-1.jsonl", items=items, now=at
        )


def stored(sessions: sessionmaker[Session]) -> list[DetentionRow]:
    with sessions() as session:
        return list(session.scalars(select(DetentionRow).order_by(DetentionRow.custody_ref)))


def versions(sessions: sessionmaker[Session]) -> list[DetentionVersionRow]:
    with sessions() as session:
        query = select(DetentionVersionRow).order_by(DetentionVersionRow.id)
        return list(session.scalars(query))


def test_a_new_detention_is_stored_with_every_column_and_is_due_now(sessions):
    changed = store(sessions, prepared(record(released_time="2026-03-29T03:15:00+01:00")))
    assert changed == 1
    [row] = stored(sessions)
    assert (row.custody_ref, row.source, row.suite, row.force) == (
        "C-1",
        "feed",
        "suite-a",
        "force-x",
    )
    assert row.arrival_time == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert row.released_time == datetime(2026, 3, 29, 2, 15, tzinfo=UTC)
    assert row.is_child is True
    assert row.record["released_time"] == "2026-03-29T03:15:00+01:00"  # as the source gave it
    assert row.first_seen_at == row.last_changed_at == row.next_check_at == NOW
    assert row.record_updated_at is None


def test_every_new_version_is_kept_for_audit_with_its_row_and_batch(sessions):
    store(sessions, prepared(record(), record("C-2", date_of_birth="1980-01-01")))
    kept = versions(sessions)
    assert [(v.row, v.batch, v.source, v.became_current) for v in kept] == [
        (1, "file-1.jsonl", "feed", True),
        (2, "file-1.jsonl", "feed", True),
    ]
    assert all(v.received_at == NOW for v in kept)
    assert {row.custody_ref: row.is_child for row in stored(sessions)} == {
        "C-1": True,
        "C-2": False,
    }


def test_a_later_version_replaces_the_current_record(sessions):
    store(sessions, prepared(record(updated_at="2026-03-29T00:40:00Z")))
    later = NOW + timedelta(minutes=5)
    changed = store(
        sessions,
        prepared(
            record(updated_at="2026-03-29T02:00:00+01:00", released_time="2026-03-29T01:00:00Z")
        ),
        later,
    )
    assert changed == 1
    [row] = stored(sessions)
    assert row.released_time == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert row.record_updated_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert row.first_seen_at == NOW and row.last_changed_at == row.next_check_at == later
    assert [v.became_current for v in versions(sessions)] == [True, True]


def test_an_older_version_is_kept_for_audit_but_does_not_become_current(sessions):
    store(sessions, prepared(record(updated_at="2026-03-29T01:00:00Z", force="newer")))
    changed = store(sessions, prepared(record(updated_at="2026-03-29T00:45:00Z", force="older")))
    assert changed == 0
    assert [row.force for row in stored(sessions)] == ["newer"]
    assert [v.became_current for v in versions(sessions)] == [True, False]


def test_the_same_record_sent_again_changes_nothing_and_adds_no_version(sessions):
    store(sessions, prepared(record()))
    assert store(sessions, prepared(record()), NOW + timedelta(hours=1)) == 0
    assert len(versions(sessions)) == 1
    assert stored(sessions)[0].last_changed_at == NOW


def test_within_one_batch_the_latest_version_wins_and_ties_go_to_the_later_row(sessions):
    items = prepared(
        record(updated_at="2026-03-29T01:00:00Z", force="first"),
        record(updated_at="2026-03-29T01:00:00Z", force="tied-later"),
        record(updated_at="2026-03-29T00:59:00Z", force="older"),
        record(force="undated"),
    )
    assert store(sessions, items) == 1
    assert [row.force for row in stored(sessions)] == ["tied-later"]
    assert [v.became_current for v in versions(sessions)] == [False, True, False, False]


def test_instants_are_stored_as_utc_whatever_offset_the_source_gave(sessions):
    store(sessions, prepared(record(arrival_time="2026-03-29T02:30:00+01:00")))
    assert stored(sessions)[0].arrival_time == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_the_stored_text_of_an_instant_sorts_as_time_does():
    early = datetime(2026, 10, 25, 1, 59, 59, 999999, tzinfo=BST)
    late = datetime(2026, 10, 25, 1, 0, 0, tzinfo=UTC)
    assert utc_text(early) == "2026-10-25 00:59:59.999999"
    assert utc_text(late) == "2026-10-25 01:00:00.000000"
    assert utc_text(early) < utc_text(late)
    assert from_utc_text(utc_text(early)) == early


def test_a_naive_datetime_is_refused_rather_than_its_zone_guessed():
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 1, 1, 12, 0))


def plan(sessions: sessionmaker[Session], query: Select[Any]) -> str:
    with sessions() as session:
        bind = session.get_bind()
        sql = str(query.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True}))
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    upgrade(engine)
    return make_sessionmaker(engine)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda: board.in_custody_query(NOW), id="board"),
        pytest.param(lambda: metrics.children_by_suite(NOW), id="metrics"),
        pytest.param(lambda: collect.meeting(NOW - DAY, NOW, NOW - 28 * DAY), id="digest"),
    ],
)
def test_who_is_in_custody_is_found_through_the_released_time_index_not_a_scan(
    sqlite_sessions: sessionmaker[Session], query: Callable[[], Select[Any]]
):
    # With a million detentions stored, a scan would read every one of them on each page
    # load, metrics scrape and digest.
    chosen = plan(sqlite_sessions, query())
    assert "ix_detentions_released_time" in chosen
    assert "SCAN detentions" not in chosen
