"""Snooze, notes, escalate-now and reassign on a live alert: the pure decision, then what
each does to the ladder and the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from custody_watch.alerts import actions
from custody_watch.alerts.snooze import MAX_SNOOZE, decide_snooze, is_breach
from custody_watch.domain import Severity
from custody_watch.escalation.assign import page_marker, page_targets
from custody_watch.escalation.ladders import Ladder, Level
from custody_watch.store.schema import OutboxRow

from .support import (
    INSP_A,
    SUPT_B,
    T0,
    M,
    audit_events,
    escalate_due,
    finding,
    mark_sent,
    outbox,
    sync,
)

REASON = "appropriate adult arriving 03:30"


def test_a_snooze_within_two_hours_with_a_reason_is_granted_until_now_plus_its_length() -> None:
    decision = decide_snooze([("appropriate_adult", "high")], "open", 30 * M, REASON, T0)
    assert decision.ok and decision.until == T0 + 30 * M


@pytest.mark.parametrize(
    ("length", "reason", "state", "why"),
    [
        (MAX_SNOOZE + M, REASON, "open", "at most 2h"),
        (timedelta(0), REASON, "open", "more than 0"),
        (30 * M, "  ", "open", "needs a reason"),
        (30 * M, REASON, "resolved", "is resolved"),
    ],
)
def test_a_snooze_is_refused_when_too_long_empty_unexplained_or_not_live(
    length: timedelta, reason: str, state: str, why: str
) -> None:
    decision = decide_snooze([("appropriate_adult", "high")], state, length, reason, T0)
    assert not decision.ok and why in decision.reason and decision.until is None


def test_a_snooze_is_refused_once_any_finding_is_a_statutory_breach() -> None:
    findings = [("appropriate_adult", "high"), ("pace_limit", "critical")]
    decision = decide_snooze(findings, "open", 30 * M, REASON, T0)
    assert not decision.ok and "pace_limit is already a statutory breach" in decision.reason


def test_breaches_are_the_laws_limits_not_guidance() -> None:
    assert is_breach("pace_limit", "critical")
    assert not is_breach("pace_limit", "high")  # an hour before the limit: not yet broken
    assert is_breach("review_overdue", "high")  # the review was due: s.40 is broken
    assert not is_breach("child_detention_duration", "critical")  # the Concordat, not a statute


def test_a_reassigned_alert_pages_its_person_and_a_stale_assignment_pages_the_rota() -> None:
    people = {"insp-a", "supt-b"}
    assert page_targets("supt-b", ("duty_inspector",), people) == ("supt-b",)
    assert page_targets(None, ("duty_inspector",), people) == ("duty_inspector",)
    assert page_targets("left-the-force", ("duty_inspector",), people) == ("duty_inspector",)


def test_pages_say_whether_they_are_an_escalation_or_a_repeat() -> None:
    two = Ladder(levels=(Level(("a",), ("sms",)), Level(("b",), ("sms",))))
    assert [page_marker(two, p) for p in range(4)] == [
        "",
        "ESCALATED TO LEVEL 2",
        "REPEAT 2",
        "REPEAT 3",
    ]


def test_a_snoozed_alert_is_not_paged_until_the_snooze_ends(session, ctx) -> None:
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    mark_sent(session, T0)
    result = actions.snooze(session, alert, "insp-a", 40 * M, REASON, T0 + M)
    assert result.ok
    session.commit()

    escalate_due(session, alert, ctx, T0 + 20 * M)  # level 2 was due at 15m
    assert outbox(session, state="pending") == []
    escalate_due(session, alert, ctx, T0 + 41 * M)
    assert [r.person_id for r in outbox(session, state="pending")] == [SUPT_B.id, SUPT_B.id]
    assert "snoozed" in audit_events(session, alert.id)


def test_escalate_now_takes_the_next_step_at_once_and_ends_a_snooze(session, ctx) -> None:
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    mark_sent(session, T0)
    actions.snooze(session, alert, "insp-a", 40 * M, REASON, T0)
    result = actions.escalate_now(session, alert, "insp-a", ctx, T0 + 2 * M)
    assert result.ok and alert.snoozed_until is None
    assert {r.person_id for r in outbox(session, state="pending")} == {SUPT_B.id}


def test_reassigning_pages_the_new_owner_now_and_at_later_steps(session, ctx) -> None:
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    mark_sent(session, T0)
    assert actions.reassign(session, alert, "insp-a", SUPT_B.id, ctx, T0 + M).ok
    assert {r.person_id for r in outbox(session, state="pending")} == {SUPT_B.id}
    mark_sent(session, T0 + M)
    escalate_due(session, alert, ctx, T0 + 15 * M)
    later = session.scalars(select(OutboxRow).where(OutboxRow.state == "pending")).all()
    assert later and {r.person_id for r in later} == {SUPT_B.id}
    assert INSP_A.id not in {r.person_id for r in later}


def test_a_note_is_listed_in_order_and_an_empty_one_is_refused(session, ctx) -> None:
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    assert actions.add_note(session, alert, "insp-a", "AA called", T0).ok
    assert actions.add_note(session, alert, "supt-b", "AA arrived", T0 + M).ok
    assert not actions.add_note(session, alert, "insp-a", "   ", T0 + M).ok
    assert [(n.author, n.text) for n in actions.notes(session, alert.id)] == [
        ("insp-a", "AA called"),
        ("supt-b", "AA arrived"),
    ]
