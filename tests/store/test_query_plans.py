"""The queries every tick runs find their rows through an index on both databases, so their
cost follows the work due, not the size of the store (a million detentions, a year of
outbox rows).

PostgreSQL chooses a sequential scan for any table this small whatever its indexes, so there
the check is that the index can serve the query: with ``enable_seqscan`` off the planner
uses it, or would have to scan anyway if no index fitted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, func, select

from custody_watch.dispatch.claim import _claimable
from custody_watch.store.db import make_engine
from custody_watch.store.detentions import SamePersonAsk, same_person_batch_query
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AlertRow, DetentionRow, OutboxRow

NOW = datetime(2026, 7, 1, 11, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/plans.db"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    made = make_engine(url)
    upgrade(made)
    yield made
    made.dispose()


def plan(engine: Engine, query: Select[Any]) -> str:
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))


def claim_candidates() -> Select[Any]:
    # The dispatcher's claim (dispatch.claim._claim_once): what is due, oldest first.
    return (
        select(OutboxRow.id, OutboxRow.state, OutboxRow.attempts)
        .where(_claimable(NOW))
        .order_by(OutboxRow.due_at, OutboxRow.id)
        .limit(20)
    )


@pytest.mark.parametrize(
    ("query", "index", "table"),
    [
        pytest.param(claim_candidates, "ix_outbox_due", "outbox", id="claim"),
        pytest.param(
            lambda: same_person_batch_query(
                [
                    SamePersonAsk("C-1", "P-1", NOW - timedelta(days=90), NOW),
                    SamePersonAsk("C-2", "P-2", NOW - timedelta(days=91), NOW),
                ]
            ),
            "ix_detentions_person_arrival",
            "detentions",
            id="repeat-detention",
        ),
        pytest.param(
            lambda: select(func.min(DetentionRow.next_check_at)).where(
                DetentionRow.next_check_at > NOW
            ),
            "ix_detentions_next_check_at",
            "detentions",
            id="wake-detentions",
        ),
        pytest.param(
            lambda: select(func.min(AlertRow.next_action_at)).where(AlertRow.next_action_at > NOW),
            "ix_alerts_next_action_at",
            "alerts",
            id="wake-alerts",
        ),
        pytest.param(
            lambda: select(func.min(OutboxRow.due_at)).where(
                OutboxRow.state == "pending", OutboxRow.due_at > NOW
            ),
            "ix_outbox_due",
            "outbox",
            id="wake-outbox",
        ),
    ],
)
def test_the_tick_s_queries_use_their_index_not_a_scan(
    engine: Engine, query: Callable[[], Select[Any]], index: str, table: str
) -> None:
    chosen = plan(engine, query())
    assert index in chosen, chosen
    assert f"SCAN {table}\n" not in chosen + "\n"  # SQLite's full scan
    assert "Seq Scan" not in chosen  # PostgreSQL's
