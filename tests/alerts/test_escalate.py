"""Moving live alerts along their ladders from the store (``escalate.due_alerts`` then
``escalate.escalate``, as the daemon's cycle does), the config snapshot, and a role with
nobody on call."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import escalate
from custody_watch.alerts.deps import AlertDeps
from custody_watch.domain import Severity
from custody_watch.escalation.ladders import Ladder, Level
from custody_watch.escalation.rota import Shift
from custody_watch.store.schema import AlertRow, FindingRow

from .support import (
    EMAIL,
    SMS,
    T0,
    H,
    M,
    escalate_due,
    finding,
    make_context,
    mark_sent,
    outbox,
    sent_to,
    sync,
)

HIGH, CRITICAL = Severity.HIGH, Severity.CRITICAL


def run_escalation(session: Session, ctx: AlertDeps, now: datetime):
    """One escalation pass; returns the (person, channel, level) of the pages it queued."""
    before = {r.id for r in outbox(session)}
    for alert in escalate.due_alerts(session, now):
        escalate_due(session, alert, ctx, now)
    session.commit()
    new_rows = [r for r in outbox(session) if r.id not in before]
    mark_sent(session, now)
    session.commit()
    return [(r.person_id, r.channel, r.level) for r in new_rows if r.purpose == "notify"]


def open_alert(session, ctx, severity=HIGH, at=T0) -> AlertRow:
    alert = sync(session, ctx, at, [finding(severity, since=at)])
    assert alert is not None
    session.commit()
    mark_sent(session, at)
    session.commit()
    return alert


def test_nothing_is_due_before_level_one_wait_has_passed(session, ctx):
    open_alert(session, ctx)
    assert escalate.due_alerts(session, T0 + 15 * M - M) == []
    assert run_escalation(session, ctx, T0 + 14 * M) == []


def test_it_escalates_to_level_two_after_the_wait(session, ctx):
    alert = open_alert(session, ctx)
    assert [a.id for a in escalate.due_alerts(session, T0 + 15 * M)] == [alert.id]
    assert run_escalation(session, ctx, T0 + 15 * M) == [
        ("supt-b", SMS, 1),
        ("supt-b", EMAIL, 1),
    ]
    assert (alert.level, alert.next_action_at) == (1, T0 + 45 * M)


def test_the_high_ladder_repeats_level_two_at_45_75_and_105_minutes(session, ctx):
    open_alert(session, ctx)
    timeline = {}
    for minute in (15, 30, 45, 60, 75, 90, 105):
        timeline[minute] = run_escalation(session, ctx, T0 + minute * M)
    level_two = [("supt-b", SMS, 1), ("supt-b", EMAIL, 1)]
    assert timeline == {
        15: level_two,
        30: [],
        45: level_two,
        60: [],
        75: level_two,
        90: [],
        105: level_two,
    }


def test_the_critical_ladder_tells_inspector_and_superintendent_at_level_two(
    session, ctx, renderer
):
    alert = open_alert(session, ctx, CRITICAL)
    assert run_escalation(session, ctx, T0 + 10 * M) == [
        ("insp-a", SMS, 1),
        ("insp-a", EMAIL, 1),
        ("supt-b", SMS, 1),
        ("supt-b", EMAIL, 1),
    ]
    assert alert.next_action_at == T0 + 25 * M


def test_a_warning_notifies_level_one_once_and_never_escalates(session, ctx):
    alert = open_alert(session, ctx, Severity.WARNING)
    assert sent_to(outbox(session)) == [("insp-a", SMS), ("insp-a", EMAIL)]
    assert alert.next_action_at is None
    assert escalate.due_alerts(session, T0 + 24 * H) == []


def test_after_a_long_pause_a_level_is_told_once_and_the_timetable_is_kept(session, ctx):
    alert = open_alert(session, ctx)
    # The daemon stopped after opening the alert and came back two hours later.
    assert run_escalation(session, ctx, T0 + 2 * H) == [
        ("supt-b", SMS, 1),
        ("supt-b", EMAIL, 1),
    ]
    assert alert.next_action_at == T0 + 135 * M
    assert run_escalation(session, ctx, T0 + 134 * M) == []
    assert len(run_escalation(session, ctx, T0 + 135 * M)) == 2


def test_escalating_an_alert_that_is_not_due_does_nothing(session, ctx):
    alert = open_alert(session, ctx)
    escalate_due(session, alert, ctx, T0 + 5 * M)
    session.commit()
    assert (alert.level, alert.next_action_at) == (0, T0 + 15 * M)
    assert len(outbox(session)) == 2


def test_resolved_alerts_are_never_due(session, ctx):
    open_alert(session, ctx)
    sync(session, ctx, T0 + 5 * M, [])
    session.commit()
    assert escalate.due_alerts(session, T0 + 24 * H) == []


def test_changing_the_ladders_after_opening_does_not_change_the_open_alert(session, ctx):
    alert = open_alert(session, ctx)
    # A config reload: level 1 now waits 5 minutes and level 2 is someone else.
    ctx.ladders[HIGH] = Ladder(
        levels=(
            Level(("duty_inspector",), (EMAIL,), wait=5 * M),
            Level(("operations",), (EMAIL,), wait=5 * M),
        ),
        repeat_every=5 * M,
    )
    assert run_escalation(session, ctx, T0 + 5 * M) == []
    assert run_escalation(session, ctx, T0 + 15 * M) == [
        ("supt-b", SMS, 1),
        ("supt-b", EMAIL, 1),
    ]
    assert alert.next_action_at == T0 + 45 * M
    # A detention that opens now gets the new ladders.
    other = sync(session, ctx, T0 + 20 * M, [finding(HIGH, ref="C-2")], ref="C-2")
    session.commit()
    assert other is not None and other.next_action_at == T0 + 25 * M


def test_a_rise_in_severity_restarts_from_the_snapshot_not_from_the_new_config(
    session, ctx, renderer
):
    alert = open_alert(session, ctx)
    ctx.ladders[CRITICAL] = Ladder(levels=(Level(("operations",), (EMAIL,), wait=60 * M),))
    sync(session, ctx, T0 + 5 * M, [finding(CRITICAL, since=T0 + 5 * M)])
    session.commit()
    assert alert.next_action_at == T0 + 15 * M  # the snapshot's critical ladder: 10 minutes
    assert sent_to(outbox(session, purpose="notify"))[-2:] == [("insp-a", SMS), ("insp-a", EMAIL)]


# --- nobody on call --------------------------------------------------------------------

# Only a weekday office-hours inspector: nobody is duty inspector at 02:00 on a Wednesday.
OFFICE_HOURS_ONLY = (
    Shift("duty_inspector", "insp-a", start=time(9, 0), end=time(17, 0)),
    Shift("superintendent", "supt-b"),
    Shift("operations", "ops"),
)
NIGHT = T0 - 8 * H  # 02:00 GMT


def system_alerts(session: Session) -> list[AlertRow]:
    return list(
        session.scalars(
            select(AlertRow).where(AlertRow.custody_ref.is_(None)).order_by(AlertRow.id)
        )
    )


def test_a_role_with_nobody_on_call_raises_a_system_alert_to_operations(session, renderer):
    ctx = make_context(shifts=OFFICE_HOURS_ONLY)
    alert = sync(session, ctx, NIGHT, [finding(HIGH, since=NIGHT)])
    session.commit()
    assert alert is not None
    assert outbox(session, alert_id=alert.id) == []  # nobody to tell at level 1

    [system] = system_alerts(session)
    assert (system.subject, system.live_key) == (
        "nobody_on_call:duty_inspector",
        "nobody_on_call:duty_inspector",
    )
    assert (system.custody_ref, system.severity, system.state) == (None, "high", "open")
    rules = session.scalars(select(FindingRow.rule).where(FindingRow.alert_id == system.id))
    assert list(rules) == ["nobody_on_call"]
    assert alert.ack_code in system.summary
    # Operations has an email address only; it is told by email.
    assert sent_to(outbox(session, alert_id=system.id)) == [("ops", EMAIL)]


def test_nobody_on_call_is_raised_once_while_it_is_live(session, renderer):
    ctx = make_context(shifts=OFFICE_HOURS_ONLY)
    sync(session, ctx, NIGHT, [finding(HIGH, since=NIGHT)])
    sync(session, ctx, NIGHT, [finding(HIGH, ref="C-2", since=NIGHT)], ref="C-2")
    session.commit()
    assert len(system_alerts(session)) == 1


def test_a_level_whose_role_is_filled_by_day_is_paged_normally(session, renderer):
    ctx = make_context(shifts=OFFICE_HOURS_ONLY)
    alert = sync(session, ctx, T0, [finding(HIGH)])  # 10:00 on a Wednesday
    session.commit()
    assert alert is not None
    assert system_alerts(session) == []
    assert sent_to(outbox(session)) == [("insp-a", SMS), ("insp-a", EMAIL)]


def test_a_whole_timeline_across_the_october_clock_change_runs_on_elapsed_time(
    session, ctx, renderer
):
    """Opened at 00:50 BST on 25 October 2026; the clocks go back at 02:00 BST (01:00Z).
    Every wait is elapsed time: the 01:xx local hour happens twice and nothing is skipped
    or doubled."""
    from custody_watch.alerts.ack import acknowledge
    from custody_watch.times import utc_z

    opened = datetime.fromisoformat("2026-10-24T23:50:00+00:00")  # 00:50 BST
    alert = open_alert(session, ctx, at=opened)
    pages = {}
    for minutes in (15, 45, 75):  # 01:05 BST, 01:35 BST, 01:05 GMT (the second 01:05)
        pages[utc_z(opened + minutes * M)] = run_escalation(session, ctx, opened + minutes * M)
    level_two = [("supt-b", SMS, 1), ("supt-b", EMAIL, 1)]
    assert pages == {
        "2026-10-25T00:05:00Z": level_two,
        "2026-10-25T00:35:00Z": level_two,
        "2026-10-25T01:05:00Z": level_two,
    }
    acked = acknowledge(session, alert.ack_code, "supt-b", ctx, opened + 80 * M)
    session.commit()
    assert acked.ok
    # The acknowledgement times out two elapsed hours later (03:10Z = 03:10 GMT), not at
    # 03:10 BST on the wall clock of the moment it was given.
    assert alert.ack_expires_at == opened + 80 * M + 2 * H
    assert run_escalation(session, ctx, opened + 80 * M + 2 * H - M) == []
    restarted = run_escalation(session, ctx, opened + 80 * M + 2 * H)
    assert restarted == [("insp-a", SMS, 0), ("insp-a", EMAIL, 0)]
    assert alert.state == "open"
