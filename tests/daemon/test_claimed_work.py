"""Work is claimed, not raced for. Several daemons on one PostgreSQL database share it: a
detention another daemon is evaluating, or an alert it is escalating, is left to it. And on
both databases a poll that lands during an evaluation (the poll and the tick are jobs of
their own, even in one daemon) is never overwritten by it.

Found by three real daemons at national scale (bench/national.py): they evaluated the same
chunks side by side (the losers broke the findings' unique key), took the same escalation
step at once (the loser broke the outbox's unique key, failed its step and paged operations),
and a new version stored mid-evaluation could be marked "checked" by the evaluation of the
old one."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from custody_watch.clock import FixedClock
from custody_watch.config import read_settings
from custody_watch.daemon import cycle, evaluate
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.poll import poll_source
from custody_watch.daemon.runtime import Context
from custody_watch.store import detentions
from custody_watch.store.schema import AlertRow, DetentionRow, OutboxRow
from custody_watch.times import parse_instant

from .support import Daemon
from .test_evaluate_budget import children
from .test_run_once import CHILD

NOW = parse_instant("2026-06-10T09:30:00Z")
# The child's version an hour later: the appropriate adult asked for.
UPDATED = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,"
    "2026-06-10T10:25:00+01:00,,,2026-06-10T10:25:00+01:00,P-77\n"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def on_either(
    request: pytest.FixtureRequest, make_daemon: Callable[..., Daemon]
) -> Iterator[tuple[Daemon, Context]]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_schema_url")
    yield from _daemon(make_daemon(database=url))


@pytest.fixture
def on_postgresql(
    make_daemon: Callable[..., Daemon], postgres_schema_url: str
) -> Iterator[tuple[Daemon, Context]]:
    yield from _daemon(make_daemon(database=postgres_schema_url))


def _daemon(daemon: Daemon) -> Iterator[tuple[Daemon, Context]]:
    ctx = build_context(read_settings(daemon.config), FixedClock(NOW), stream=io.StringIO())
    try:
        yield daemon, ctx
    finally:
        ctx.engine.dispose()


def poll(ctx: Context, now) -> int:
    [settings] = ctx.settings.sources
    return poll_source(
        ctx.sessions, ctx.sources[settings.name], settings.kind, None, ctx.policy, now
    )


def child_stored(setup: tuple[Daemon, Context]) -> tuple[Daemon, Context]:
    """The child's first version (no appropriate adult) polled and stored at ``NOW``."""
    daemon, ctx = setup
    daemon.drop("day.csv", CHILD)
    poll(ctx, NOW)
    return daemon, ctx


@pytest.mark.postgres
def test_detentions_one_daemon_is_evaluating_are_left_to_it(
    on_postgresql: tuple[Daemon, Context],
) -> None:
    daemon, ctx = on_postgresql
    daemon.drop("day.csv", children(10))
    poll(ctx, NOW)
    with ctx.sessions.begin() as other_daemon:
        held = detentions.due_records(other_daemon, NOW, 3)
        assert len(held) == 3
        assert evaluate.evaluate_due(ctx, NOW) == 7  # the rest, not the three held
    # The other daemon went away without evaluating them: they are still due.
    assert evaluate.evaluate_due(ctx, NOW) == 3
    assert evaluate.evaluate_due(ctx, NOW) == 0


def test_a_version_stored_during_an_evaluation_stays_due(
    on_either: tuple[Daemon, Context],
) -> None:
    """The new facts are read at the next tick, not at the old version's next threshold.
    On PostgreSQL the poll's write waits for the evaluation's lock, then marks the detention
    due; on SQLite the evaluation's next check is written only where the version it read is
    still the stored one."""
    daemon, ctx = child_stored(on_either)
    later = NOW + timedelta(hours=1)
    with ctx.sessions.begin() as evaluating:
        [record] = detentions.due_records(evaluating, NOW)
        daemon.drop("update.csv", UPDATED)
        storing = threading.Thread(target=poll, args=(ctx, later))
        storing.start()
        _wait_until_blocked_or_done(ctx, storing)
        # What the evaluation of the old version concludes: nothing until a threshold.
        detentions.set_next_checks(evaluating, [(record, NOW + timedelta(hours=5))])
    storing.join(timeout=30)
    assert not storing.is_alive()
    row = stored(ctx, record.id)
    assert row.next_check_at is not None and row.next_check_at <= later
    assert row.record["appropriate_adult_requested_time"]  # the new version is stored


def test_a_detention_evaluated_with_no_poll_between_gets_its_next_check(
    on_either: tuple[Daemon, Context],
) -> None:
    _, ctx = child_stored(on_either)
    with ctx.sessions.begin() as evaluating:
        [record] = detentions.due_records(evaluating, NOW)
        detentions.set_next_checks(evaluating, [(record, NOW + timedelta(hours=5))])
    assert stored(ctx, record.id).next_check_at == NOW + timedelta(hours=5)


@pytest.mark.postgres
def test_an_alert_one_daemon_is_escalating_is_left_to_it_and_nothing_fails(
    on_postgresql: tuple[Daemon, Context],
) -> None:
    _, ctx = child_stored(on_postgresql)
    opened = NOW + timedelta(minutes=90)  # high: no appropriate adult
    poll(ctx, opened)  # the feed is fresh: the child's alert is the only one
    cycle.tick(ctx, opened)
    due = opened + timedelta(minutes=16)  # the high ladder's first wait is 15 minutes
    pages = _outbox_rows(ctx)
    with ctx.sessions.begin() as other_daemon:
        [alert] = other_daemon.scalars(
            select(AlertRow).where(AlertRow.live_key.is_not(None)).with_for_update()
        ).all()
        level = alert.level
        cycle.escalate_due(ctx, due)  # raises StepIncomplete if it raced and failed
        assert _outbox_rows(ctx) == pages  # no second copy of the step's pages
    cycle.escalate_due(ctx, due)  # the other daemon let go without moving it: this one does
    with ctx.sessions() as session:
        moved = session.get(AlertRow, alert.id)
        assert moved is not None and moved.level == level + 1
    assert _outbox_rows(ctx) > pages


def stored(ctx: Context, detention_id: int) -> DetentionRow:
    with ctx.sessions() as session:
        row = session.get(DetentionRow, detention_id)
    assert row is not None
    return row


def _outbox_rows(ctx: Context) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


def _wait_until_blocked_or_done(ctx: Context, thread: threading.Thread) -> None:
    """Until ``thread`` waits for a row lock on detentions (or has finished: it did not
    wait, which the test's assertions then catch)."""
    waiting = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE NOT l.granted AND a.query ILIKE '%detentions%'"
    )
    if ctx.engine.dialect.name != "postgresql":
        thread.join(timeout=30)  # SQLite locks no row: the poll goes straight through
        return
    deadline = time.monotonic() + 15
    while thread.is_alive() and time.monotonic() < deadline:
        with ctx.engine.connect() as connection:
            if connection.execute(waiting).scalar():
                return
        time.sleep(0.05)
