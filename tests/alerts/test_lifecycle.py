"""Opening, raising, lowering and resolving alerts as findings come and go
(RULES.md "From findings to alerts"; cli.md "Escalation timing")."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custody_watch.alerts import ack, lifecycle
from custody_watch.alerts.deps import AlertDeps
from custody_watch.domain import Severity
from custody_watch.escalation.ladders import to_json
from custody_watch.messages.gsm import measure
from custody_watch.store.schema import AlertRow, AuditRow, OutboxRow

from .support import (
    CHILD_DOB,
    CHILD_REF,
    EMAIL,
    INSP_A,
    SMS,
    SUPT_B,
    T0,
    H,
    M,
    add_detention,
    audit_events,
    escalate_due,
    finding,
    findings_of,
    mark_sent,
    outbox,
    sent_to,
    sync,
)

HIGH, CRITICAL, WARNING = Severity.HIGH, Severity.CRITICAL, Severity.WARNING


def open_high(session: Session, ctx: AlertDeps) -> AlertRow:
    detention_id = add_detention(session)
    alert = sync(session, ctx, T0, [finding(HIGH)], detention_id=detention_id)
    assert alert is not None
    session.commit()
    return alert


def test_opening_creates_one_live_alert_with_a_four_digit_ack_code(session, ctx):
    alert = open_high(session, ctx)
    assert session.scalar(select(func.count()).select_from(AlertRow)) == 1
    assert (alert.state, alert.severity, alert.opened_severity) == ("open", "high", "high")
    assert re.fullmatch(r"\d{4}", alert.ack_code)
    assert alert.live_ack_code == alert.ack_code
    assert alert.live_key == "detention:C-1"
    assert (alert.custody_ref, alert.suite, alert.opened_at) == ("C-1", "suite-a", T0)


def test_opening_snapshots_the_escalation_policies_onto_the_alert(session, ctx):
    alert = open_high(session, ctx)
    assert alert.escalation == to_json(ctx.ladders)
    assert (alert.level, alert.next_action_at) == (0, T0 + 15 * M)


def test_opening_records_the_findings_and_audits_each_step(session, ctx):
    alert = open_high(session, ctx)
    assert findings_of(session, alert.id) == {"child_detention_duration": ("high", None)}
    events = audit_events(session, alert.id)
    assert events[:3] == ["opened", "finding_raised", "escalation_step"]
    step = session.scalars(select(AuditRow).where(AuditRow.event == "escalation_step")).one()
    assert "level 1: insp-a" in step.detail


def test_opening_queues_level_one_to_the_duty_inspector_by_sms_and_by_email(session, ctx):
    alert = open_high(session, ctx)
    rows = outbox(session)
    assert sent_to(rows) == [("insp-a", SMS), ("insp-a", EMAIL)]
    assert [r.address for r in rows] == [INSP_A.phone, INSP_A.email]
    assert {(r.alert_id, r.purpose, r.level, r.state, r.due_at) for r in rows} == {
        (alert.id, "notify", 0, "pending", T0)
    }
    assert all(alert.ack_code in r.body_text for r in rows)
    assert rows[1].subject and rows[1].body_html


def test_messages_carry_no_person_reference_or_date_of_birth(session, ctx):
    open_high(session, ctx)
    forbidden = [
        CHILD_REF,
        CHILD_DOB.isoformat(),
        CHILD_DOB.strftime("%d/%m/%Y"),
        f"{CHILD_DOB.day} {CHILD_DOB:%b} {CHILD_DOB.year}",
        INSP_A.name,
    ]
    for row in outbox(session):
        for text in (row.body_text, row.subject, row.body_html or ""):
            assert not [word for word in forbidden if word in text], (row.channel, text)
    sms = outbox(session, channel=SMS)[0]
    assert "age 15" in sms.body_text and "C-1" in sms.body_text


def test_an_sms_about_many_findings_stays_within_two_gsm_segments(session, ctx):
    detention_id = add_detention(session)
    many = [
        finding(HIGH, rule, detail=f"{rule} has been outstanding for a very long time " * 4)
        for rule in (
            "child_detention_duration",
            "review_overdue",
            "appropriate_adult",
            "child_overnight",
            "post_charge_transfer",
            "pace_limit",
        )
    ]
    alert = sync(session, ctx, T0, many, detention_id=detention_id)
    assert alert is not None
    sms = outbox(session, channel=SMS)
    assert sms
    for row in sms:
        size = measure(row.body_text)
        assert (size.encoding, size.segments) == ("GSM-7", 2), row.body_text
        assert size.units <= 306
        assert row.body_text.endswith(f"Reply ACK {alert.ack_code}")


# What the rules engine says about a charged 15-year-old refused bail 10 hours ago and held
# 20 hours, reviews up to date (details copied from ``rules.assess``).
CHARGED_AND_HELD = [
    finding(
        CRITICAL,
        "post_charge_transfer",
        since=T0 - 6 * H,
        detail="refused bail 10h ago (00:00 GMT, 14 Jan), still at the station: no s.38 "
        "certificate, no accommodation requested from the local authority",
    ),
    finding(HIGH, detail="child held 20h since arrival at 14:00 GMT, 13 Jan", since=T0 - 4 * H),
    finding(
        HIGH,
        "appropriate_adult",
        since=T0 - 17 * H,
        detail="no appropriate adult requested after 20h in custody",
    ),
    finding(
        HIGH,
        "child_overnight",
        since=T0 - 12 * H,
        detail="child in custody overnight (after charge and refusal of bail) since 22:00 GMT, "
        "13 Jan",
    ),
]


def test_a_trimmed_sms_still_lists_every_finding_and_the_ack_code(session, ctx):
    ref = "C-20260114-00123"
    detention_id = add_detention(session, ref, arrival_time=T0 - 20 * H)
    alert = sync(session, ctx, T0, CHARGED_AND_HELD, ref=ref, detention_id=detention_id)
    assert alert is not None
    sms = outbox(session, channel=SMS)[0].body_text
    assert measure(sms).units <= 306
    assert f"Reply ACK {alert.ack_code}" in sms
    for label in ("LA accommodation", "appropriate adult", "overnight", "long time"):
        assert label in sms


def test_the_same_findings_again_change_nothing_and_send_nothing(session, ctx):
    alert = open_high(session, ctx)
    before = len(outbox(session))
    sync(session, ctx, T0 + 5 * M, [finding(HIGH)])
    session.commit()
    assert len(outbox(session)) == before
    assert (alert.state, alert.severity, alert.next_action_at) == ("open", "high", T0 + 15 * M)


def test_a_rise_in_severity_after_an_ack_reopens_the_alert_and_queues_level_one_again(
    session, ctx, renderer
):
    alert = open_high(session, ctx)
    mark_sent(session, T0)
    assert ack.acknowledge(session, alert.ack_code, "insp-a", ctx, T0 + 5 * M).ok
    session.commit()
    before = {r.id for r in outbox(session)}

    raised = T0 + 30 * M
    sync(session, ctx, raised, [finding(CRITICAL, since=raised)])
    session.commit()

    assert (alert.state, alert.severity) == ("open", "critical")
    assert (alert.acknowledged_at, alert.acknowledged_by, alert.ack_expires_at) == (None,) * 3
    assert alert.live_ack_code == alert.ack_code
    new = [r for r in outbox(session) if r.id not in before]
    assert [(r.person_id, r.channel, r.level, r.purpose) for r in new] == [
        ("insp-a", SMS, 0, "notify"),
        ("insp-a", EMAIL, 0, "notify"),
    ]
    assert "CRITICAL" in new[0].body_text
    # The critical ladder now runs from the rise: level 2 after its 10-minute wait.
    assert (alert.level, alert.next_action_at) == (0, raised + 10 * M)
    assert "severity_raised" in audit_events(session, alert.id)


def test_a_fall_in_severity_is_recorded_without_new_messages(session, ctx):
    detention_id = add_detention(session)
    alert = sync(session, ctx, T0, [finding(CRITICAL)], detention_id=detention_id)
    session.commit()
    before = len(outbox(session))
    sync(session, ctx, T0 + 5 * M, [finding(HIGH)])
    session.commit()
    assert alert is not None
    assert (alert.state, alert.severity) == ("open", "high")
    assert len(outbox(session)) == before
    assert "severity_lowered" in audit_events(session, alert.id)
    assert findings_of(session, alert.id)["child_detention_duration"] == ("high", None)


def test_a_new_finding_at_the_same_severity_is_recorded_and_sends_nothing(session, ctx):
    alert = open_high(session, ctx)
    before = len(outbox(session))
    sync(session, ctx, T0 + 5 * M, [finding(HIGH), finding(WARNING, "appropriate_adult")])
    session.commit()
    assert len(outbox(session)) == before
    assert findings_of(session, alert.id) == {
        "child_detention_duration": ("high", None),
        "appropriate_adult": ("warning", None),
    }


def test_a_finding_that_clears_while_others_hold_is_marked_cleared(session, ctx):
    detention_id = add_detention(session)
    both = [finding(HIGH), finding(WARNING, "appropriate_adult")]
    alert = sync(session, ctx, T0, both, detention_id=detention_id)
    session.commit()
    sync(session, ctx, T0 + 5 * M, [finding(HIGH)])
    session.commit()
    assert alert is not None and alert.state == "open"
    assert findings_of(session, alert.id)["appropriate_adult"] == ("warning", T0 + 5 * M)
    assert "finding_cleared" in audit_events(session, alert.id)


def test_all_findings_cleared_resolves_the_alert_and_tells_everyone_notified(
    session, ctx, renderer
):
    alert = open_high(session, ctx)
    mark_sent(session, T0)

    escalate_due(session, alert, ctx, T0 + 15 * M)  # level 2: supt-b
    session.commit()
    mark_sent(session, T0 + 15 * M)
    before = {r.id for r in outbox(session)}

    cleared = T0 + 20 * M
    assert sync(session, ctx, cleared, []) is None
    session.commit()

    assert (alert.state, alert.resolved_at) == ("resolved", cleared)
    assert (alert.live_key, alert.live_ack_code, alert.next_action_at) == (None, None, None)
    assert alert.ack_code  # kept for the record
    assert findings_of(session, alert.id) == {"child_detention_duration": ("high", cleared)}
    notices = [r for r in outbox(session) if r.id not in before]
    assert {r.purpose for r in notices} == {"resolved"}
    assert sorted(sent_to(notices)) == sorted(
        [("insp-a", SMS), ("insp-a", EMAIL), ("supt-b", SMS), ("supt-b", EMAIL)]
    )
    assert "resolved" in audit_events(session, alert.id)
    assert lifecycle.live_alert(session, "detention:C-1") is None


def test_resolving_cancels_pages_not_yet_sent_and_tells_only_those_reached(session, ctx):
    alert = open_high(session, ctx)
    mark_sent(session, T0)

    escalate_due(session, alert, ctx, T0 + 15 * M)  # supt-b, still pending
    session.commit()
    sync(session, ctx, T0 + 16 * M, [])
    session.commit()
    supt = outbox(session, person_id=SUPT_B.id)
    assert {(r.purpose, r.state) for r in supt} == {("notify", "cancelled")}
    resolved = outbox(session, purpose="resolved")
    assert sent_to(resolved) == [("insp-a", SMS), ("insp-a", EMAIL)]


def test_findings_again_after_resolution_open_a_new_alert(session, ctx):
    first = open_high(session, ctx)
    sync(session, ctx, T0 + 20 * M, [])
    session.commit()
    again = sync(session, ctx, T0 + 40 * M, [finding(HIGH, since=T0 + 40 * M)])
    session.commit()
    assert again is not None
    assert again.id != first.id
    assert (again.state, again.opened_at, again.live_key) == ("open", T0 + 40 * M, "detention:C-1")
    assert first.state == "resolved"
    assert findings_of(session, again.id) == {"child_detention_duration": ("high", None)}
    assert sent_to(outbox(session, alert_id=again.id, purpose="notify")) == [
        ("insp-a", SMS),
        ("insp-a", EMAIL),
    ]


def test_two_detentions_get_two_alerts_with_different_ack_codes(session, ctx):
    one = sync(session, ctx, T0, [finding(HIGH)], ref="C-1")
    two = sync(session, ctx, T0, [finding(HIGH, ref="C-2")], ref="C-2")
    session.commit()
    assert one is not None and two is not None
    assert one.id != two.id and one.ack_code != two.ack_code


def test_findings_outside_every_ladder_page_nobody(session, ctx):
    alert = sync(session, ctx, T0, [finding(Severity.INFO)])
    session.commit()
    assert alert is not None
    assert (alert.level, alert.next_action_at) == (-1, None)
    assert outbox(session) == []


def test_no_findings_and_no_alert_does_nothing(session, ctx):
    assert sync(session, ctx, T0, []) is None
    session.commit()
    assert session.scalar(select(func.count()).select_from(AlertRow)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0
