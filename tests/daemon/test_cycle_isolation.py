"""A cycle step that fails never stops the steps after it: it is logged with its name,
raised to operations as ``cycle_step_failed:<step>`` and cleared when it next succeeds;
one alert whose escalation fails never holds back the others; when the database is down,
the alert about the failure cannot be raised either and the cycle still goes on. On SQLite
and on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from custody_watch.alerts import escalate as escalate_module
from custody_watch.clock import FixedClock
from custody_watch.config import read_settings
from custody_watch.daemon import cycle
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.runtime import Context
from custody_watch.store.schema import AlertRow, FindingRow, OutboxRow
from custody_watch.times import parse_instant

from .support import Daemon
from .test_evaluation_failed import CHILD_1, CHILD_2

START = parse_instant("2026-06-10T09:30:00Z")  # 10:30 BST: both children's alerts open


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def daemon(request: pytest.FixtureRequest, make_daemon: Callable[..., Daemon]) -> Daemon:
    if request.param == "sqlite":
        return make_daemon()
    return make_daemon(database=request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def ctx(daemon: Daemon) -> Iterator[Context]:
    daemon.drop("day.csv", CHILD_1 + CHILD_2)
    context = build_context(read_settings(daemon.config), FixedClock(START), stream=io.StringIO())
    yield context
    context.engine.dispose()


def live(ctx: Context) -> dict[str, AlertRow]:
    with ctx.sessions() as session:
        rows = session.scalars(select(AlertRow).where(AlertRow.live_key.is_not(None)))
        return {row.subject: row for row in rows}


def detail_of(ctx: Context, subject: str) -> str:
    with ctx.sessions() as session:
        alert = session.scalar(select(AlertRow).where(AlertRow.live_key == subject))
        assert alert is not None
        return session.scalars(
            select(FindingRow.detail).where(FindingRow.alert_id == alert.id)
        ).one()


def fail(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("step exploded")


def test_a_failing_feed_watch_is_raised_and_evaluation_escalation_and_sending_still_run(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cycle, "_watch_feed", fail)
    report = cycle.run_cycle(ctx, START, poll_all=True)

    assert report.failed == ("feed_watch",)
    assert (report.changed, report.evaluated) == (2, 2)
    assert report.sent > 0  # the children's alerts and the one about the step went out
    alerts = live(ctx)
    assert {"detention:C-1", "detention:C-2", "cycle_step_failed:feed_watch"} <= set(alerts)
    step = alerts["cycle_step_failed:feed_watch"]
    assert step.severity == "high" and "feed watch" in step.summary
    assert "RuntimeError: step exploded" in detail_of(ctx, "cycle_step_failed:feed_watch")
    assert any("cycle step feed_watch failed" in r.getMessage() for r in caplog.records)

    monkeypatch.undo()
    assert cycle.tick(ctx, START).failed == ()
    assert "cycle_step_failed:feed_watch" not in live(ctx)


@pytest.mark.parametrize(
    ("step", "target", "name"),
    [
        ("evaluate", "evaluate_due", "evaluate"),
        ("rota_watch", "_watch_role", "rota_watch"),
        ("escalate", "escalate_due", "escalate"),
    ],
)
def test_each_step_that_fails_leaves_the_steps_after_it_running(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, step: str, target: str, name: str
) -> None:
    ran: list[str] = []
    real_run = ctx.dispatcher.run

    def dispatch(now: Any) -> int:
        ran.append("dispatch")
        return real_run(now)

    monkeypatch.setattr(ctx.dispatcher, "run", dispatch)
    monkeypatch.setattr(cycle, target, fail)
    report = cycle.run_cycle(ctx, START, poll_all=True)
    assert report.failed == (name,)
    assert ran == ["dispatch"]
    assert f"cycle_step_failed:{name}" in live(ctx)


def test_one_alert_whose_escalation_fails_does_not_hold_back_the_others(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    cycle.run_cycle(ctx, START, poll_all=True)
    alerts = live(ctx)
    first, second = alerts["detention:C-1"], alerts["detention:C-2"]
    real = escalate_module.escalate

    def fragile(session: Any, alert: AlertRow, *args: Any) -> Any:
        if alert.id == first.id:
            raise RuntimeError("a ladder that cannot be read")
        return real(session, alert, *args)

    monkeypatch.setattr(cycle.escalate, "escalate", fragile)
    later = parse_instant("2026-06-10T10:30:00Z")
    with ctx.sessions.begin() as session:  # make both due now
        for alert_id in (first.id, second.id):
            row = session.get(AlertRow, alert_id)
            assert row is not None
            row.next_action_at = START
    report = cycle.tick(ctx, later)

    assert report.failed == ("escalate",)
    assert report.escalated == 2
    with ctx.sessions() as session:
        moved = session.get(AlertRow, second.id)
        stuck = session.get(AlertRow, first.id)
        assert moved is not None and stuck is not None
        assert moved.next_action_at != START  # escalated: its next step is set
        assert stuck.next_action_at == START  # left as it was, tried again next tick
    assert f"escalating alert {first.id}: RuntimeError" in detail_of(
        ctx, "cycle_step_failed:escalate"
    )


def test_a_database_that_is_down_fails_every_step_and_the_cycle_still_completes(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    class Down:
        """A sessionmaker whose database does not answer."""

        def __call__(self) -> Any:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

        begin = __call__

    monkeypatch.setattr(ctx, "sessions", Down())
    report = cycle.run_cycle(ctx, START, poll_all=True)

    assert "evaluate" in report.failed and "escalate" in report.failed
    messages = [r.getMessage() for r in caplog.records]
    assert any("the alert about it could not be raised" in m for m in messages)


def test_a_tick_whose_step_failed_still_sends_and_is_reported_failed_for_health(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custody_watch.daemon.scheduler import run_one_cycle

    cycle.run_cycle(ctx, START, poll_all=True)
    monkeypatch.setattr(cycle, "_watch_role", fail)
    told: list[bool] = []
    run_one_cycle(ctx, lambda _at, _took, ok: told.append(ok))

    assert told == [False]
    assert ctx.status.read().last_error["tick"] == ("StepsFailed: cycle steps failed: rota_watch")
    assert "cycle_step_failed:rota_watch" in live(ctx)
    with ctx.sessions() as session:  # the alert about it went out in the same tick
        alert = live(ctx)["cycle_step_failed:rota_watch"]
        states = set(session.scalars(select(OutboxRow.state).where(OutboxRow.alert_id == alert.id)))
        assert states and "pending" not in states


def test_the_running_daemons_digest_job_that_raises_is_told_to_operations(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custody_watch.daemon import scheduler

    monkeypatch.setattr(scheduler.digest_send, "send_due_digest", fail)
    scheduler.run_digest(ctx)

    assert ctx.status.read().last_error["digest"] == "RuntimeError: step exploded"
    alert = live(ctx)["cycle_step_failed:digest"]
    assert alert.summary == "custody-watch cannot complete its digest step"

    monkeypatch.undo()
    scheduler.run_digest(ctx)
    assert "cycle_step_failed:digest" not in live(ctx)
