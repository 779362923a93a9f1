"""The tick is brought forward to the instant something falls due, so a threshold is acted
on within one cycle of it rather than up to a whole tick later."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.clock import FixedClock, StartedClock
from custody_watch.config import read_settings
from custody_watch.daemon import scheduler as daemon_scheduler
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.cycle import run_cycle
from custody_watch.daemon.wake import next_wake
from custody_watch.store import due
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AlertRow, DetentionRow, OutboxRow
from custody_watch.times import parse_instant

from .support import CONFIG, Daemon
from .test_run_once import CHILD

T = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def test_no_due_instant_means_no_wake() -> None:
    assert next_wake(None, T, speed=1, tick=2, floor=0.05) is None


def test_a_due_instant_before_the_next_tick_wakes_the_tick_at_it() -> None:
    assert next_wake(T + timedelta(seconds=0.7), T, speed=1, tick=2, floor=0.05) == 0.7


def test_a_due_instant_after_the_next_tick_is_left_to_the_tick() -> None:
    assert next_wake(T + timedelta(seconds=2), T, speed=1, tick=2, floor=0.05) is None


def test_a_due_instant_already_passed_wakes_after_the_floor_only() -> None:
    assert next_wake(T - timedelta(seconds=5), T, speed=1, tick=2, floor=0.05) == 0.05


def test_an_accelerated_clock_shortens_the_wait_in_real_seconds() -> None:
    # At --speed 60 a minute of custody time passes in one real second.
    assert next_wake(T + timedelta(seconds=30), T, speed=60, tick=2, floor=0.05) == 0.5


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/due.db"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    made = create_engine(url)
    upgrade(made)
    yield made
    made.dispose()


def _detention(ref: str, next_check_at: datetime | None) -> DetentionRow:
    return DetentionRow(
        custody_ref=ref,
        source="s",
        suite="suite-a",
        arrival_time=T - timedelta(hours=1),
        is_child=True,
        record={},
        first_seen_at=T,
        last_changed_at=T,
        next_check_at=next_check_at,
    )


def _alert(key: str, next_action_at: datetime | None) -> AlertRow:
    return AlertRow(
        subject=key,
        live_key=key,
        state="open",
        severity="high",
        opened_severity="high",
        ack_code=key[-4:],
        live_ack_code=key[-4:],
        opened_at=T,
        escalation={},
        next_action_at=next_action_at,
    )


def _message(key: str, state: str, due_at: datetime) -> OutboxRow:
    return OutboxRow(
        dedupe_key=key,
        purpose="page",
        person_id="insp-a",
        channel="sms",
        address="+447700900001",
        body_text="x",
        state=state,
        due_at=due_at,
        created_at=T,
        token=key,
    )


def test_the_earliest_due_instant_is_the_first_of_checks_steps_and_sends(engine: Engine) -> None:
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        session.add_all(
            [
                _detention("C-1", T + timedelta(minutes=9)),
                _detention("C-2", None),
                _alert("detention:C-1001", T + timedelta(minutes=7)),
                _message("m-1", "pending", T + timedelta(minutes=5)),
                _message("m-2", "sent", T + timedelta(minutes=1)),  # not pending: ignored
            ]
        )
    with sessions() as session:
        assert due.earliest_after(session, T) == T + timedelta(minutes=5)
        assert due.earliest_after(session, T + timedelta(minutes=5)) == T + timedelta(minutes=7)
        assert due.earliest_after(session, T + timedelta(minutes=9)) is None


def test_work_already_due_when_the_tick_started_is_not_a_reason_to_wake(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add(_detention("C-1", T - timedelta(seconds=1)))
        session.flush()
        assert due.earliest_after(session, T) is None


def test_the_daemon_acts_on_a_threshold_long_before_its_next_regular_tick(
    make_daemon: Callable[..., Daemon],
) -> None:
    """A 30 s tick: without the wake the child's threshold, 1.5 s after the daemon's start,
    would wait for the next tick, 30 s away."""
    daemon = make_daemon(config_text=CONFIG + '\n[daemon]\ntick = "30s"\n')
    daemon.drop("day.csv", CHILD)  # appropriate_adult turns high at 11:00:00Z exactly
    threshold = parse_instant("2026-06-10T11:00:00Z")
    settings = read_settings(daemon.config)
    setup_clock = FixedClock(threshold - timedelta(seconds=1.5))
    ctx = build_context(settings, setup_clock, stream=io.StringIO())
    run_cycle(ctx, setup_clock.now(), poll_all=True)  # stored and evaluated
    [before] = daemon.alerts()
    assert before["severity"] == "warning"  # not yet high

    ctx.clock = StartedClock(threshold - timedelta(seconds=1.5))
    ticks: list[datetime] = []
    scheduler = BackgroundScheduler(timezone=UTC)
    daemon_scheduler.add_jobs(scheduler, ctx, on_cycle=lambda at, _took, _ok: ticks.append(at))
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and daemon.alerts()[0]["severity"] != "high":
            time.sleep(0.1)
        [alert] = daemon.alerts()
        assert alert["severity"] == "high"
        # The tick that raised it ran at the threshold, not 30 s later.
        assert any(threshold <= at < threshold + timedelta(seconds=1) for at in ticks)
    finally:
        scheduler.shutdown(wait=True)
        ctx.engine.dispose()
