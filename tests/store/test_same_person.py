"""repeat_detention's look-up in the store (RULES.md, Precise reading 11), on both databases:
``person_ref`` is copied out of the record as versions are stored, and a person's other
detentions are found by one range scan of ``ix_detentions_person_arrival``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.ingest.prepare import PreparedRow, Zones, prepare_rows
from custody_watch.sources.base import SourceRow
from custody_watch.store import detentions
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import DetentionRow

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
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


def record(ref: str, arrival: datetime, person: str | None, **more: object) -> dict[str, object]:
    values: dict[str, object] = {
        "custody_ref": ref,
        "suite": "S1",
        "arrival_time": arrival.isoformat(),
        **more,
    }
    if person is not None:
        values["person_ref"] = person
    return values


def store(sessions: sessionmaker[Session], items: list[PreparedRow]) -> None:
    with sessions.begin() as session:
        detentions.record_versions(session, source="feed", batch="b", items=items, now=NOW)


def test_person_ref_is_stored_on_insert_and_on_update(sessions: sessionmaker[Session]) -> None:
    store(sessions, prepared(record("C-1", NOW, "P-1"), record("C-2", NOW, None)))
    store(sessions, prepared(record("C-2", NOW, "P-2", updated_at=NOW.isoformat())))
    with sessions() as session:
        rows = session.execute(select(DetentionRow.custody_ref, DetentionRow.person_ref))
        assert dict(rows.all()) == {"C-1": "P-1", "C-2": "P-2"}


def test_a_persons_other_arrivals_in_the_window_whatever_their_state(
    sessions: sessionmaker[Session],
) -> None:
    store(
        sessions,
        prepared(
            record("C-0", NOW - 90 * DAY - timedelta(seconds=1), "P-1"),  # a second too early
            record("C-1", NOW - 90 * DAY, "P-1", released_time=(NOW - 89 * DAY).isoformat()),
            record("C-2", NOW - DAY, "P-1", date_of_birth="1990-01-01"),  # an adult record too
            record("C-3", NOW, "P-1"),  # the record itself
            record("C-4", NOW - DAY, "p-1"),  # someone else: matched exactly as given
            record("C-5", NOW + DAY, "P-1"),  # after this arrival
        ),
    )
    with sessions() as session:
        found = detentions.same_person_arrivals(session, "P-1", "C-3", NOW - 90 * DAY, NOW)
    assert sorted(found) == [NOW - 90 * DAY, NOW - DAY]


def test_the_look_up_is_a_range_scan_of_the_person_arrival_index(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    query = detentions.same_person_query("P-1", "C-1", NOW - 90 * DAY, NOW)
    sql = str(query.compile(dialect=fresh_engine.dialect, compile_kwargs={"literal_binds": True}))
    with fresh_engine.connect() as connection:
        if fresh_engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            plan = "\n".join(str(row[-1]) for row in rows)
        else:
            # PostgreSQL scans a table this small whatever its indexes: ask whether the
            # index can serve the query.
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "ix_detentions_person_arrival" in plan, plan


def test_a_chunk_asks_once_and_each_record_gets_its_own_window(
    sessions: sessionmaker[Session],
) -> None:
    store(
        sessions,
        prepared(
            record("C-0", NOW - 90 * DAY - timedelta(seconds=1), "P-1"),  # too early for C-3
            record("C-1", NOW - 90 * DAY, "P-1"),
            record("C-2", NOW - DAY, "P-1"),
            record("C-3", NOW, "P-1"),
            record("C-4", NOW - 2 * DAY, "P-2"),
            record("C-5", NOW - DAY, "P-2"),
            record("C-6", NOW - 3 * DAY, "p-1"),  # someone else: matched exactly as given
        ),
    )
    asks = [
        detentions.SamePersonAsk("C-3", "P-1", NOW - 90 * DAY, NOW),
        # C-2's own window reaches C-0, which is outside C-3's: one query serves both.
        detentions.SamePersonAsk("C-2", "P-1", NOW - 91 * DAY, NOW - DAY),
        detentions.SamePersonAsk("C-5", "P-2", NOW - 90 * DAY, NOW - DAY),
        detentions.SamePersonAsk("C-9", "P-404", NOW - 90 * DAY, NOW),
    ]
    with sessions() as session:
        found = detentions.same_person_arrivals_of(session, asks)
        one_by_one = {
            ask.custody_ref: detentions.same_person_arrivals(
                session, ask.person_ref, ask.custody_ref, ask.start, ask.end
            )
            for ask in asks
        }
    assert {ref: sorted(at) for ref, at in found.items()} == {
        "C-3": [NOW - 90 * DAY, NOW - DAY],
        "C-2": [NOW - 90 * DAY - timedelta(seconds=1), NOW - 90 * DAY],
        "C-5": [NOW - 2 * DAY],
        "C-9": [],
    }
    assert {ref: sorted(at) for ref, at in one_by_one.items()} == {
        ref: sorted(at) for ref, at in found.items()
    }


def test_no_asks_no_query(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert detentions.same_person_arrivals_of(session, []) == {}
