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
