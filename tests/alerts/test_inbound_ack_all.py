"""``ACK ALL`` by SMS: every open alert the sender was paged for, and nothing else."""

from __future__ import annotations

from custody_watch.alerts.inbound import handle_inbound_sms
from custody_watch.domain import Severity
from custody_watch.store.schema import OutboxRow

from .support import INSP_A, SUPT_B, T0, M, finding, mark_sent, sync


def test_ack_all_acknowledges_every_open_alert_paged_to_the_sender(session, ctx) -> None:
    first = sync(session, ctx, T0, [finding(Severity.HIGH, ref="C-1")], ref="C-1")
    second = sync(session, ctx, T0, [finding(Severity.HIGH, ref="C-2")], ref="C-2")
    assert first is not None and second is not None
    mark_sent(session, T0)

    result = handle_inbound_sms(
        session,
        message_sid="SM1",
        from_number=INSP_A.phone or "",
        body=" ack all ",
        deps=ctx,
        now=T0 + M,
    )
    assert result.outcome == "acknowledged"
    assert first.ack_code in (result.reply or "") and second.ack_code in (result.reply or "")
    assert {first.state, second.state} == {"acknowledged"}
    assert {first.acknowledged_by, second.acknowledged_by} == {INSP_A.id}


def test_ack_all_leaves_alerts_the_sender_was_never_paged_for(session, ctx) -> None:
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    mark_sent(session, T0)
    # Only the duty inspector was paged (level 1): the superintendent's ACK ALL owns nothing.
    assert {r.person_id for r in session.query(OutboxRow)} == {INSP_A.id}
    result = handle_inbound_sms(
        session,
        message_sid="SM2",
        from_number=SUPT_B.phone or "",
        body="ACK ALL",
        deps=ctx,
        now=T0 + M,
    )
    assert result.outcome == "refused"
    assert alert.state == "open"
