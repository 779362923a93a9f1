"""Acknowledging by code: the first acknowledgement wins, pending pages are cancelled,
everyone already paged hears who owns it, and an acknowledgement that times out while the
alert is still live starts the ladder again at level 1."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import ack, escalate
from custody_watch.domain import Severity
from custody_watch.store.schema import AlertRow, AuditRow

from .support import (
    EMAIL,
    SMS,
    T0,
    H,
    M,
    audit_events,
    escalate_due,
    finding,
    mark_sent,
    outbox,
    sent_to,
    sync,
)

ACKED_AT = T0 + 20 * M  # level 1 went at T0 and level 2 (supt-b) at T0 + 15 minutes


def escalated_alert(session: Session, ctx) -> AlertRow:
    """A high alert: level 1 sent at T0; level 2 queued at T0 + 15m and still pending."""
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    session.commit()
    mark_sent(session, T0)
    escalate_due(session, alert, ctx, T0 + 15 * M)
    session.commit()
    return alert


def test_an_ack_by_code_marks_the_alert_acknowledged_by_that_person(session, ctx):
    alert = escalated_alert(session, ctx)
    result = ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    session.commit()
    assert (result.ok, result.alert_id) == (True, alert.id)
    assert "acknowledged by insp-a" in result.message
    assert (alert.state, alert.acknowledged_by, alert.acknowledged_at) == (
        "acknowledged",
        "insp-a",
        ACKED_AT,
    )
    assert alert.first_acknowledged_at == ACKED_AT
    assert alert.ack_expires_at == alert.next_action_at == ACKED_AT + 2 * H
    assert alert.live_key == "detention:C-1"  # still live: the child is still held


def test_an_ack_cancels_pending_pages_and_tells_those_already_paged(session, ctx):
    alert = escalated_alert(session, ctx)
    before = {r.id for r in outbox(session)}
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    session.commit()
    level_two = [r for r in outbox(session, purpose="notify") if r.level == 1]
    assert {(r.person_id, r.state) for r in level_two} == {("supt-b", "cancelled")}
    notices = [r for r in outbox(session) if r.id not in before]
    assert {r.purpose for r in notices} == {"acknowledged"}
    assert sent_to(notices) == [("insp-a", SMS), ("insp-a", EMAIL)]
    assert "insp-a" in notices[0].body_text and alert.ack_code in notices[0].body_text


def test_an_ack_is_audited_with_an_event_containing_ack(session, ctx):
    alert = escalated_alert(session, ctx)
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT, via="sms")
    session.commit()
    [acked] = [e for e in audit_events(session, alert.id) if "ack" in e]
    record = session.scalars(select(AuditRow).where(AuditRow.event == acked)).one()
    assert (record.actor, record.at, record.custody_ref) == ("insp-a", ACKED_AT, "C-1")
    assert "via sms" in record.detail


def test_an_acknowledged_alert_does_not_escalate_before_the_ack_times_out(session, ctx):
    alert = escalated_alert(session, ctx)
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    session.commit()
    assert escalate.due_alerts(session, T0 + 45 * M) == []
    assert escalate.due_alerts(session, ACKED_AT + 2 * H - M) == []


def test_an_unknown_code_is_refused_and_audited(session, ctx):
    alert = escalated_alert(session, ctx)
    wrong = "0000" if alert.ack_code != "0000" else "0001"
    result = ack.acknowledge(session, wrong, "insp-a", ctx, ACKED_AT)
    session.commit()
    assert (result.ok, result.alert_id) == (False, None)
    assert wrong in result.message
    refused = session.scalars(select(AuditRow).where(AuditRow.event == "ack_refused")).one()
    assert (refused.actor, refused.at) == ("insp-a", ACKED_AT)
    assert wrong in refused.detail
    assert alert.state == "open"


def test_the_code_of_a_resolved_alert_is_refused(session, ctx):
    alert = escalated_alert(session, ctx)
    sync(session, ctx, T0 + 16 * M, [])
    session.commit()
    result = ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    assert not result.ok
    assert alert.state == "resolved"


def test_a_second_ack_says_it_was_already_acknowledged(session, ctx):
    alert = escalated_alert(session, ctx)
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    session.commit()
    count = len(outbox(session))
    again = ack.acknowledge(session, alert.ack_code, "supt-b", ctx, ACKED_AT + M)
    session.commit()
    assert again.ok
    assert "already acknowledged by insp-a" in again.message
    assert alert.acknowledged_by == "insp-a"
    assert len(outbox(session)) == count  # nobody is told twice


def test_an_ack_code_with_spaces_around_it_is_accepted(session, ctx):
    alert = escalated_alert(session, ctx)
    assert ack.acknowledge(session, f" {alert.ack_code}\n", "insp-a", ctx, ACKED_AT).ok


def test_an_ack_that_times_out_while_the_alert_is_live_reopens_it_at_level_one(
    session, ctx, renderer
):
    alert = escalated_alert(session, ctx)
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    session.commit()
    mark_sent(session, ACKED_AT)
    session.commit()
    before = {r.id for r in outbox(session)}

    expired = ACKED_AT + 2 * H
    assert [a.id for a in escalate.due_alerts(session, expired)] == [alert.id]
    escalate_due(session, alert, ctx, expired)
    session.commit()

    assert alert.state == "open"
    assert (alert.acknowledged_by, alert.acknowledged_at, alert.ack_expires_at) == (None,) * 3
    assert alert.first_acknowledged_at == ACKED_AT
    assert (alert.level, alert.next_action_at) == (0, expired + 15 * M)
    new = [r for r in outbox(session) if r.id not in before]
    assert [(r.person_id, r.channel, r.level, r.purpose) for r in new] == [
        ("insp-a", SMS, 0, "notify"),
        ("insp-a", EMAIL, 0, "notify"),
    ]
    assert "ack_timed_out" in audit_events(session, alert.id)
    # And the ladder climbs again from there.
    escalate_due(session, alert, ctx, expired + 15 * M)
    session.commit()
    assert sent_to(outbox(session, level=1, state="pending")) == [
        ("supt-b", SMS),
        ("supt-b", EMAIL),
    ]


def test_a_reopened_alert_can_be_acknowledged_again(session, ctx):
    alert = escalated_alert(session, ctx)
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    escalate_due(session, alert, ctx, ACKED_AT + 2 * H)
    session.commit()
    later = ACKED_AT + 2 * H + 5 * M
    result = ack.acknowledge(session, alert.ack_code, "supt-b", ctx, later)
    session.commit()
    assert result.ok and "acknowledged by supt-b" in result.message
    assert (alert.state, alert.acknowledged_by, alert.first_acknowledged_at) == (
        "acknowledged",
        "supt-b",
        ACKED_AT,
    )


def test_an_ack_that_times_out_after_the_alert_resolved_does_nothing(session, ctx):
    alert = escalated_alert(session, ctx)
    ack.acknowledge(session, alert.ack_code, "insp-a", ctx, ACKED_AT)
    sync(session, ctx, ACKED_AT + H, [])
    session.commit()
    assert escalate.due_alerts(session, ACKED_AT + 3 * H) == []
    escalate_due(session, alert, ctx, ACKED_AT + 3 * H)
    assert alert.state == "resolved"
