"""Decide, then act: ``lifecycle.sync`` and ``escalate`` change the alert and return a
``Transition`` naming the pages to make and the roles they found empty or filled; nothing is
queued and no other alert is raised until ``effects.carry_out`` acts on it."""

from __future__ import annotations

from datetime import time

from custody_watch.alerts import ack, escalate, lifecycle
from custody_watch.alerts.effects import carry_out
from custody_watch.alerts.lifecycle import Subject
from custody_watch.domain import Severity
from custody_watch.escalation.rota import Shift

from .support import (
    INSP_A,
    SUPT_B,
    T0,
    H,
    M,
    audit_events,
    finding,
    live_alert,
    make_context,
    mark_sent,
    outbox,
    sync,
)

HIGH, CRITICAL = Severity.HIGH, Severity.CRITICAL
SUBJECT = Subject("detention:C-1", custody_ref="C-1", suite="suite-a")
# Nobody is duty inspector at 02:00 on a Wednesday.
OFFICE_HOURS_ONLY = (
    Shift("duty_inspector", "insp-a", start=time(9, 0), end=time(17, 0)),
    Shift("superintendent", "supt-b"),
    Shift("operations", "ops"),
)
NIGHT = T0 - 8 * H


def test_opening_an_alert_decides_its_first_page_and_queues_nothing(session, ctx):
    transition = lifecycle.sync(session, SUBJECT, [finding(HIGH)], ctx, T0)

    assert transition.opened and not (transition.raised or transition.resolved)
    [page] = transition.pages
    assert (page.index, page.reason, page.people) == (0, "alert opened", (INSP_A,))
    assert (page.empty_roles, page.filled_roles) == ((), ("duty_inspector",))
    assert outbox(session) == []
    assert "escalation_step" not in audit_events(session)


def test_carrying_out_the_transition_queues_the_page_and_records_the_step(session, ctx):
    transition = lifecycle.sync(session, SUBJECT, [finding(HIGH)], ctx, T0)
    carry_out(session, transition, ctx, T0)

    assert [(r.person_id, r.channel, r.level) for r in outbox(session)] == [
        ("insp-a", "sms", 0),
        ("insp-a", "email", 0),
    ]
    assert audit_events(session)[-1] == "escalation_step"


def test_a_rise_in_severity_is_a_raised_transition_with_a_new_level_one_page(session, ctx):
    sync(session, ctx, T0, [finding(HIGH)])
    raised = lifecycle.sync(session, SUBJECT, [finding(CRITICAL)], ctx, T0 + 5 * M)
    lowered = lifecycle.sync(session, SUBJECT, [finding(HIGH)], ctx, T0 + 6 * M)

    assert raised.raised and [p.reason for p in raised.pages] == ["severity rose to critical"]
    assert not lowered.raised and lowered.pages == ()


def test_resolving_decides_a_notice_to_everyone_told(session, ctx):
    sync(session, ctx, T0, [finding(HIGH)])
    mark_sent(session, T0)

    resolved = lifecycle.sync(session, SUBJECT, [], ctx, T0 + H, cause="released")

    assert resolved.resolved and resolved.notice is not None
    assert resolved.notice.purpose == "resolved" and resolved.notice.reason == "released"
    assert resolved.notice.told == (("insp-a", "sms"), ("insp-a", "email"))
    assert [r.purpose for r in outbox(session)] == ["notify", "notify"]  # not yet queued


def test_a_page_that_finds_a_role_empty_names_it_and_raises_nothing_by_itself(session):
    ctx = make_context(shifts=OFFICE_HOURS_ONLY)
    transition = lifecycle.sync(session, SUBJECT, [finding(HIGH, since=NIGHT)], ctx, NIGHT)

    assert transition.empty_roles == ("duty_inspector",)
    assert live_alert(session, "nobody_on_call:duty_inspector") is None
    carry_out(session, transition, ctx, NIGHT)
    assert live_alert(session, "nobody_on_call:duty_inspector") is not None


def test_escalating_decides_the_due_step_with_its_marker(session, ctx):
    alert = sync(session, ctx, T0, [finding(HIGH)])
    assert alert is not None
    mark_sent(session, T0)

    moved = escalate.escalate(session, alert, ctx, T0 + 15 * M)

    [page] = moved.pages
    assert (page.index, page.marker, page.people) == (1, "ESCALATED TO LEVEL 2", (SUPT_B,))
    assert [r.person_id for r in outbox(session)] == ["insp-a", "insp-a"]  # nothing new yet
    assert alert.level == 1 and alert.next_action_at == T0 + 45 * M


def test_an_acknowledgement_that_times_out_reopens_and_decides_level_one_again(session, ctx):
    alert = sync(session, ctx, T0, [finding(HIGH)])
    assert alert is not None
    assert ack.acknowledge(session, alert.ack_code, "insp-a", ctx, T0 + M).ok

    restarted = escalate.escalate(session, alert, ctx, T0 + M + 2 * H)

    assert alert.state == "open" and alert.acknowledged_by is None
    assert [p.reason for p in restarted.pages] == ["acknowledgement timed out"]
