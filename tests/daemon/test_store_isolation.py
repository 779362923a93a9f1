"""A row the database refuses costs only itself: the rest of its file is stored, it is
quarantined naming its field, the file is marked read, and the source is not failed. Run on
SQLite and on PostgreSQL, whose refusals differ (a NUL, a value too long for its column)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.daemon import poll
from custody_watch.daemon.poll import StoreError, poll_source, store_prepared
from custody_watch.ingest.prepare import Prepared, Zones, prepare_rows
from custody_watch.rules.policy import Policy
from custody_watch.sources.base import Batch, PollResult, SeenKeys, SourceRow
from custody_watch.store import sources
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import (
    AuditRow,
    DetentionRow,
    QuarantineRow,
    SourceFileRow,
    SourceStateRow,
)

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def row(number: int, ref: str, **extra: object) -> SourceRow:
    values: dict[str, object] = {
        "custody_ref": ref,
        "suite": "suite-a",
        "arrival_time": "2026-06-10T09:00:00+01:00",
        "date_of_birth": "2011-03-01",
        "legal_basis": "pace_arrest",
        **extra,
    }
    return SourceRow(number, values, ",".join(str(v) for v in values.values()))


def prepared(*rows: SourceRow) -> Prepared:
    result = prepare_rows(rows, Zones())
    assert not result.rejected, result.rejected
    return result


def stored_refs(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(DetentionRow.custody_ref)))


def quarantined(sessions: sessionmaker[Session]) -> list[tuple[int, str | None, str, str]]:
    with sessions() as session:
        return [
            (q.row, q.custody_ref, q.error, q.raw)
            for q in session.scalars(select(QuarantineRow).order_by(QuarantineRow.row))
        ]


def file_marks(sessions: sessionmaker[Session]) -> list[tuple[str, int, int]]:
    with sessions() as session:
        return [(f.key, f.rows, f.rejected) for f in session.scalars(select(SourceFileRow))]


def with_field(batch: Prepared, index: int, **fields: Any) -> Prepared:
    """``batch`` with one accepted row changed after the reader: a value that reaches the
    store bypassing the reader's checks (as a reader bug, or another source kind, would)."""
    accepted = list(batch.accepted)
    accepted[index] = accepted[index]._replace(**fields)
    return Prepared(batch.rows, accepted, list(batch.rejected))


def test_a_custody_ref_too_long_for_its_column_costs_only_its_own_row(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    batch = prepared(*(row(n, f"C-{n}") for n in range(1, 8)))
    too_long = "C-" + "9" * 300
    batch = with_field(batch, 3, custody_ref=too_long)
    if engine.dialect.name == "sqlite":
        # SQLite keeps text of any length; refuse the row the way PostgreSQL does.
        batch = with_field(batch, 3, custody_ref=too_long + "\ud800")

    changed, rejected = store_prepared(sessions, "suite-a", "day.csv", batch, NOW, key="k1")

    assert (changed, rejected) == (6, 1)
    assert stored_refs(sessions) == sorted(f"C-{n}" for n in (1, 2, 3, 5, 6, 7))
    [(number, ref, error, raw)] = quarantined(sessions)
    assert number == 4 and ref is None
    assert error.startswith("custody_ref: ")
    assert too_long not in raw and "9" * 41 not in raw
    assert file_marks(sessions) == [("k1", 7, 1)]


def test_a_nul_in_a_text_field_costs_only_its_own_row_and_names_the_field(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    batch = prepared(*(row(n, f"C-{n}") for n in range(1, 6)))
    # A NUL in the stored record (PostgreSQL's jsonb refuses \u0000) and in the suite column.
    bad = batch.accepted[1]
    record = bad.record_json.replace('"suite-a"', '"suite\\u0000a"')
    nul = "suite\x00a" if engine.dialect.name != "sqlite" else "suite\ud800a"
    batch = with_field(batch, 1, suite=nul, record_json=record)

    changed, rejected = store_prepared(sessions, "suite-a", "day.csv", batch, NOW, key="k1")

    assert (changed, rejected) == (4, 1)
    assert stored_refs(sessions) == ["C-1", "C-3", "C-4", "C-5"]
    [(number, ref, error, _raw)] = quarantined(sessions)
    assert (number, ref) == (2, "C-2")
    assert error.startswith("suite: contains a ")
    assert file_marks(sessions) == [("k1", 5, 1)]


def test_a_refusal_that_names_no_field_says_the_record_could_not_be_stored(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = prepared(row(1, "C-1"), row(2, "C-2"), row(3, "C-3"))
    real = poll.detentions.record_versions

    def refuse_c2(session: Session, **kwargs: Any) -> int:
        if any(item.custody_ref == "C-2" for item in kwargs["items"]):
            raise ValueError("the database said no")
        return real(session, **kwargs)

    monkeypatch.setattr(poll.detentions, "record_versions", refuse_c2)
    assert store_prepared(sessions, "suite-a", "day.csv", batch, NOW, key="k1") == (2, 1)
    [(number, ref, error, _raw)] = quarantined(sessions)
    assert (number, ref, error) == (2, "C-2", "record: could not be stored: ValueError")
    assert stored_refs(sessions) == ["C-1", "C-3"]


def test_a_rejected_row_whose_own_text_is_refused_still_lets_the_file_be_marked_read(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    from custody_watch.ingest.result import Rejection

    batch = prepared(row(1, "C-1"))
    # The reader keeps a rejected row as JSON text of its contract fields; one built by
    # anything else may hold what no database takes (a NUL, a lone surrogate) and more
    # than the contract's fields (a name).
    nul = "\x00" if engine.dialect.name != "sqlite" else ""
    bad_raw = json.dumps({"custody_ref": "C-2", "suite": f"{nul}\ud800", "name": "Jane Doe"})
    batch.rejected.append(Rejection(2, "C-2", "suite: not valid", bad_raw))
    batch.rows = 2

    assert store_prepared(sessions, "suite-a", "day.csv", batch, NOW, key="k1") == (1, 1)
    assert stored_refs(sessions) == ["C-1"]
    [(number, ref, error, raw)] = quarantined(sessions)
    assert (number, ref, error) == (2, "C-2", "suite: not valid")
    assert "\x00" not in raw and "\\ud800" in raw  # kept, as text every database takes
    assert "Jane Doe" not in raw  # contract fields only
    raw.encode("utf-8")
    assert file_marks(sessions) == [("k1", 2, 1)]


def test_a_database_that_is_down_fails_the_batch_instead_of_quarantining_good_rows(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(session: Session, **kwargs: Any) -> int:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(poll.detentions, "record_versions", down)
    with pytest.raises(StoreError, match="server closed the connection"):
        store_prepared(sessions, "suite-a", "day.csv", prepared(row(1, "C-1")), NOW, key="k1")
    assert quarantined(sessions) == []
    assert file_marks(sessions) == []


def test_a_row_refused_in_batches_stored_together_costs_only_its_own_row(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    first = prepared(*(row(n, f"C-{n}") for n in range(1, 4)))
    too_long = "C-" + "9" * 300
    if engine.dialect.name == "sqlite":
        too_long += "\ud800"  # SQLite keeps text of any length; refuse it as PostgreSQL does
    second = with_field(prepared(*(row(n, f"C-{n}") for n in range(4, 7))), 1, custody_ref=too_long)
    third = prepared(*(row(n, f"C-{n}") for n in range(7, 9)))

    stored = poll.store_prepared_together(
        sessions, "history", "history.csv", [("a", first), ("b", second), ("c", third)], NOW
    )

    assert stored == [("a", 3, 0), ("b", 2, 1), ("c", 2, 0)]
    assert stored_refs(sessions) == sorted(f"C-{n}" for n in (1, 2, 3, 4, 6, 7, 8))
    [(number, ref, error, _raw)] = quarantined(sessions)
    assert (number, ref) == (5, None) and error.startswith("custody_ref: ")
    with sessions() as session:
        state = session.get(SourceStateRow, "history")
        assert state is not None and (state.rows_read, state.rows_rejected) == (8, 1)


def test_a_failure_to_produce_batches_stored_together_is_raised_and_keeps_none_of_them(
    sessions: sessionmaker[Session],
) -> None:
    def worker_dies() -> Iterator[tuple[str, Prepared]]:
        yield "a", prepared(row(1, "C-1"), row(2, "C-2"))
        raise RuntimeError("a worker died")

    with pytest.raises(RuntimeError, match="a worker died"):
        poll.store_prepared_together(sessions, "history", "history.csv", worker_dies(), NOW)
    assert stored_refs(sessions) == []
    assert quarantined(sessions) == []


def test_a_database_that_is_down_fails_batches_stored_together_and_keeps_none_of_them(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    real = poll.detentions.record_versions
    calls: list[int] = []

    def down_on_the_second(session: Session, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real(session, **kwargs)

    monkeypatch.setattr(poll.detentions, "record_versions", down_on_the_second)
    batches = [("a", prepared(row(1, "C-1"))), ("b", prepared(row(2, "C-2")))]
    with pytest.raises(StoreError, match="server closed the connection"):
        poll.store_prepared_together(sessions, "history", "history.csv", batches, NOW)
    assert stored_refs(sessions) == []
    assert quarantined(sessions) == []


class FakeSource:
    """Delivers the given batches once (later polls find nothing new), or raises."""

    def __init__(self, name: str, batches: list[Batch], error: Exception | None = None):
        self.name = name
        self.batches = batches
        self.error = error

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        if self.error is not None:
            raise self.error
        fresh = [b for b in self.batches if b.key is None or not seen.seen(b.key)]
        return PollResult(batches=fresh)


def test_a_source_that_fails_to_poll_is_recorded_and_the_next_source_is_still_stored(
    sessions: sessionmaker[Session],
) -> None:
    broken = FakeSource("broken", [], error=RuntimeError("boom"))
    good = FakeSource("good", [Batch("day.csv", [row(1, "C-1")], key="k1")])
    policy = Policy()

    assert poll_source(sessions, broken, "csv_folder", None, policy, NOW) == 0
    assert poll_source(sessions, good, "csv_folder", None, policy, NOW) == 1

    with sessions() as session:
        state = sources.state(session, "broken", "csv_folder")
        assert state.failures == 1
        assert state.last_error == "unexpected error: RuntimeError: boom"
    assert stored_refs(sessions) == ["C-1"]


def test_a_source_whose_store_fails_is_recorded_as_failed_and_read_again_next_time(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    source = FakeSource("suite-a", [Batch("day.csv", [row(1, "C-1")], key="k1")])
    real = poll.detentions.record_versions

    def locked(session: Session, **kwargs: Any) -> int:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(poll.detentions, "record_versions", locked)
    assert poll_source(sessions, source, "csv_folder", None, Policy(), NOW) == 0
    with sessions() as session:
        state = session.get(SourceStateRow, "suite-a")
        assert state is not None and state.failures == 1
        assert state.last_error == "could not store: Exception: database is locked"
        events = [a.event for a in session.scalars(select(AuditRow))]
        assert events == ["source_failed"]

    monkeypatch.setattr(poll.detentions, "record_versions", real)
    assert poll_source(sessions, source, "csv_folder", None, Policy(), NOW) == 1
    assert stored_refs(sessions) == ["C-1"]
    with sessions() as session:
        state = session.get(SourceStateRow, "suite-a")
        assert state is not None and state.failures == 0


def test_a_row_that_makes_the_reader_raise_is_quarantined_and_the_rest_are_stored(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = poll.prepare_rows

    def fragile(rows: Any, zones: Zones) -> Prepared:
        rows = list(rows)
        if any(r.values.get("custody_ref") == "C-2" for r in rows):
            raise OverflowError("a reader bug")
        return real(rows, zones)

    monkeypatch.setattr(poll, "prepare_rows", fragile)
    source = FakeSource(
        "suite-a", [Batch("day.csv", [row(1, "C-1"), row(2, "C-2"), row(3, "C-3")], key="k1")]
    )
    assert poll_source(sessions, source, "csv_folder", None, Policy(), NOW) == 2
    assert stored_refs(sessions) == ["C-1", "C-3"]
    assert [(q[0], q[2]) for q in quarantined(sessions)] == [
        (2, "record: could not be read: OverflowError")
    ]
    assert file_marks(sessions) == [("k1", 3, 1)]
