"""A source's state row: made once, whichever job or daemon meets a new source first."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from custody_watch.store import sources
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import SourceStateRow


def test_a_state_row_made_meanwhile_by_another_job_is_taken_not_an_error(
    fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(fresh_engine)
    sessions = make_sessionmaker(fresh_engine)
    with sessions.begin() as session:
        real_get = session.get
        looked = []

        def get(entity: Any, key: Any) -> Any:
            if not looked:
                # The tick job looks first and finds nothing; the poll job makes the row
                # and commits before the tick job's insert.
                looked.append(key)
                with sessions.begin() as other:
                    other.add(
                        SourceStateRow(
                            name=key, kind="simulator", failures=3, rows_read=0, rows_rejected=0
                        )
                    )
                return None
            return real_get(entity, key)

        monkeypatch.setattr(session, "get", get)
        row = sources.state(session, "simulated-suite", "simulator")
        assert row.failures == 3  # the other job's row, not a second one
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SourceStateRow)) == 1


@pytest.mark.postgres
def test_a_first_beat_written_meanwhile_by_the_other_job_is_taken_not_an_error(
    postgres_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: on SQLite the update already holds the one write lock, so the other
    job's insert waits for this transaction and the race cannot happen."""
    from datetime import UTC, datetime

    from custody_watch.store import beats
    from custody_watch.store.db import make_engine
    from custody_watch.store.schema import DaemonBeatRow

    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    first, later = datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        real_add = session.add

        def add(row: Any, *args: Any) -> None:
            # The heartbeat job's first beat commits between this tick's update (no row
            # yet) and its insert.
            with sessions.begin() as other:
                other.add(DaemonBeatRow(worker=row.worker, started_at=first, beat_at=first))
            monkeypatch.setattr(session, "add", real_add)
            real_add(row, *args)

        monkeypatch.setattr(session, "add", add)
        beats.beat(session, "vm:1", later)
    with sessions() as session:
        [row] = session.scalars(select(DaemonBeatRow)).all()
        assert (row.started_at, row.beat_at) == (first, later)
    engine.dispose()
