"""Alerts about custody-watch itself: no custody ref, their rule as their one finding,
operations and the duty inspector told at level 1."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from custody_watch.alerts import system
from custody_watch.alerts.effects import carry_out
from custody_watch.domain import Severity
from custody_watch.escalation.rota import Shift
from custody_watch.store.schema import FindingRow

from .support import (
    EMAIL,
    SMS,
    T0,
    H,
    M,
    escalate_due,
    finding,
    make_context,
    outbox,
    sent_to,
    sync,
)

SILENT_SINCE = T0 - 20 * M
FEED_KEY = "feed_stale:suite-a"


def feed_stale(session, stale: bool, ctx, now) -> None:
    """What the daemon's feed watch does for suite-a: decide, then act."""
    carry_out(
        session, system.feed_stale(session, "suite-a", SILENT_SINCE, stale, ctx, now), ctx, now
    )


def test_a_stale_feed_raises_a_high_system_alert_to_operations_and_the_inspector(
    session, ctx, renderer
):
    feed_stale(session, True, ctx, T0)
    session.commit()
    alert = system.lifecycle.live_alert(session, FEED_KEY)
    assert alert is not None
    assert (alert.custody_ref, alert.severity, alert.state) == (None, "high", "open")
    assert "suite-a" in alert.summary
    [rule] = session.scalars(select(FindingRow).where(FindingRow.alert_id == alert.id))
    assert (rule.rule, rule.severity, rule.since) == ("feed_stale", "high", SILENT_SINCE)
    assert sent_to(outbox(session, alert_id=alert.id)) == [
        ("ops", EMAIL),
        ("insp-a", SMS),
        ("insp-a", EMAIL),
    ]


def test_a_feed_still_stale_on_the_next_poll_sends_nothing_new(session, ctx):
    feed_stale(session, True, ctx, T0)
    feed_stale(session, True, ctx, T0 + M)
    session.commit()
    assert len(outbox(session)) == 3


def test_a_feed_delivering_again_resolves_its_alert(session, ctx):
    feed_stale(session, True, ctx, T0)
    session.commit()
    alert = system.lifecycle.live_alert(session, FEED_KEY)
    feed_stale(session, False, ctx, T0 + 5 * M)
    session.commit()
    assert alert is not None and alert.state == "resolved"
    assert system.lifecycle.live_alert(session, FEED_KEY) is None


def test_a_healthy_feed_with_no_alert_does_nothing(session, ctx):
    feed_stale(session, False, ctx, T0)
    session.commit()
    assert outbox(session) == []


def test_a_system_alert_climbs_the_ordinary_ladder(session, ctx):
    feed_stale(session, True, ctx, T0)
    session.commit()
    alert = system.lifecycle.live_alert(session, FEED_KEY)
    assert alert is not None
    escalate_due(session, alert, ctx, T0 + 15 * M)
    session.commit()
    assert sent_to(outbox(session, level=1)) == [("supt-b", SMS), ("supt-b", EMAIL)]


NIGHT = T0 - 8 * H  # 02:00 on a Wednesday
OFFICE_HOURS_ONLY = (
    Shift("duty_inspector", "insp-a", start=time(9, 0), end=time(17, 0)),
    Shift("superintendent", "supt-b"),
    Shift("operations", "ops"),
)


def test_nobody_on_call_clears_once_the_role_is_filled_and_paged_again(session, renderer):
    ctx = make_context(shifts=OFFICE_HOURS_ONLY)
    sync(session, ctx, NIGHT, [finding(Severity.HIGH, since=NIGHT)])
    session.commit()
    assert system.lifecycle.live_alert(session, "nobody_on_call:duty_inspector") is not None
    # 10:00: the inspector is on shift and is paged about a new detention.
    day = sync(session, ctx, T0, [finding(Severity.HIGH, ref="C-2")], ref="C-2")
    session.commit()
    assert day is not None
    assert sent_to(outbox(session, alert_id=day.id)) == [("insp-a", SMS), ("insp-a", EMAIL)]
    assert system.lifecycle.live_alert(session, "nobody_on_call:duty_inspector") is None


def test_a_system_alert_keeps_its_one_line_summary_apart_from_its_detail(session, ctx):
    problem = system.Problem(
        key="evaluation_failed:C-9",
        rule="evaluation_failed",
        severity=Severity.HIGH,
        since=T0,
        summary="custody record C-9 (suite-a) not fully evaluated, check it by hand",
        detail="rule pace_limit failed (OverflowError: date value out of range)",
    )
    carry_out(session, system.raise_system(session, problem, ctx, T0), ctx, T0)
    session.commit()
    alert = system.lifecycle.live_alert(session, "evaluation_failed:C-9")
    assert alert is not None and alert.summary.startswith("custody record C-9")
    [rule] = session.scalars(select(FindingRow).where(FindingRow.alert_id == alert.id))
    assert rule.detail == "rule pace_limit failed (OverflowError: date value out of range)"
