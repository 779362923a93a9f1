"""Draining the outbox: send once, retry transient failures with backoff, fall back to the
person's other channel, raise ``delivery_failed`` when nobody could be reached, tell
operations about a bad contact detail, and let an acknowledgement win over a queued page."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from alerts.support import (
    EMAIL,
    INSP_A,
    OPS,
    SMS,
    T0,
    M,
    Store,
    audit_events,
    escalate_due,
    example_ladders,
    finding,
    live_alert,
    make_context,
    outbox,
    sent_to,
    sync,
)
from custody_watch.alerts import ack, escalate
from custody_watch.alerts.deps import AlertDeps
from custody_watch.dispatch.backoff import retry_delay
from custody_watch.dispatch.claim import claim_due
from custody_watch.domain import Severity
from custody_watch.store.schema import AlertRow, FindingRow, OutboxRow

from .conftest import SEED

S = timedelta(seconds=1)
HIGH = Severity.HIGH


def open_alert(store: Store, ctx: AlertDeps, ref: str = "C-1") -> int:
    with store.sessions.begin() as session:
        alert = sync(session, ctx, T0, [finding(HIGH, ref=ref)], ref=ref)
        assert alert is not None
        return alert.id


def rows(store: Store, **equal) -> list[OutboxRow]:
    with store.sessions() as session:
        return outbox(session, **equal)


def alert_row(store: Store, alert_id: int) -> AlertRow:
    with store.sessions() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        return row


# --- sending ---------------------------------------------------------------------------


def test_it_sends_due_rows_once_and_marks_them_sent_with_the_provider_id(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    dispatcher = make_dispatcher(ctx)
    assert dispatcher.run(T0) == 2
    assert dispatcher.run(T0 + M) == 0

    assert [(s.to, s.reference) for s in sms.sent] == [(INSP_A.phone, "1")]
    assert [(s.to, s.reference) for s in email.sent] == [(INSP_A.email, "2")]
    assert email.sent[0].subject
    done = rows(store)
    assert [(r.state, r.sent_at, r.attempts, r.claimed_by, r.lease_until) for r in done] == [
        ("sent", T0, 1, "worker-a", None)
    ] * 2
    assert [r.provider_id for r in done] == ["sms-1-1", "email-2-1"]
    with store.sessions() as session:
        assert audit_events(session).count("sent") == 2


def test_the_message_sent_is_the_text_written_to_the_outbox(store, ctx, sms, make_dispatcher):
    open_alert(store, ctx)
    make_dispatcher(ctx).run(T0)
    [row] = rows(store, channel=SMS)
    assert sms.sent[0].text == row.body_text


def test_a_row_not_yet_due_is_left_alone(store, ctx, sms, make_dispatcher):
    open_alert(store, ctx)
    assert make_dispatcher(ctx).run(T0 - S) == 0
    assert sms.sent == []


# --- transient failures ----------------------------------------------------------------


def test_a_transient_failure_goes_back_to_pending_after_a_backoff_and_is_sent_later(
    store, ctx, sms, make_dispatcher
):
    open_alert(store, ctx)
    sms.fail_next(1, permanent=False, code="20429")
    dispatcher = make_dispatcher(ctx)
    dispatcher.run(T0)

    retry_at = T0 + retry_delay(1, random.Random(SEED))
    [row] = rows(store, channel=SMS)
    assert (row.state, row.attempts, row.due_at, row.error_code) == (
        "pending",
        1,
        retry_at,
        "20429",
    )
    assert timedelta(seconds=15) <= retry_at - T0 <= timedelta(seconds=30)
    assert dispatcher.run(retry_at - S) == 0
    assert sms.sent == []

    assert dispatcher.run(retry_at) == 1
    [row] = rows(store, channel=SMS)
    assert (row.state, row.attempts, row.sent_at) == ("sent", 2, retry_at)
    assert len(sms.sent) == 1
    with store.sessions() as session:
        assert "send_retry" in audit_events(session)


def test_a_provider_retry_after_hint_is_honoured(store, ctx, sms, make_dispatcher):
    open_alert(store, ctx)
    sms.fail_next(1, permanent=False, code="20429", retry_after=300)
    make_dispatcher(ctx).run(T0)
    [row] = rows(store, channel=SMS)
    assert row.due_at == T0 + timedelta(seconds=300)


def test_after_max_attempts_it_fails_and_falls_back_to_the_persons_other_channel(
    store, renderer, sms, email, make_dispatcher
):
    ctx = make_context(ladders=example_ladders((SMS,)), max_attempts=3)
    open_alert(store, ctx)
    sms.fail_next(3, permanent=False, code="30003")
    dispatcher = make_dispatcher(ctx)
    now = T0
    for _ in range(3):
        dispatcher.run(now)
        [row] = rows(store, channel=SMS)
        now = row.due_at if row.state == "pending" else now
    [row] = rows(store, channel=SMS)
    assert (row.state, row.attempts, row.error_code) == ("failed", 3, "30003")
    assert sms.sent == []

    [fallback] = rows(store, channel=EMAIL, person_id="insp-a")
    assert (fallback.person_id, fallback.address, fallback.state) == (
        "insp-a",
        INSP_A.email,
        "sent",
    )
    assert fallback.purpose == "notify" and fallback.body_text == row.body_text
    # Reached by email, but the SMS failed: operations hears of it (RULES.md, delivery_failed).
    assert [s.to for s in email.sent] == [INSP_A.email, OPS.email]
    with store.sessions() as session:
        events = audit_events(session)
        assert "send_failed" in events and "fallback" in events
        assert live_alert(session, "delivery_failed:insp-a") is None


# --- permanent failures ----------------------------------------------------------------


def test_a_permanent_failure_is_not_retried_and_falls_back(
    store, renderer, sms, email, make_dispatcher
):
    ctx = make_context(ladders=example_ladders((SMS,)))
    open_alert(store, ctx)
    sms.fail_next(1, permanent=True, code="21211")
    make_dispatcher(ctx).run(T0)
    [row] = rows(store, channel=SMS)
    assert (row.state, row.attempts, row.error_code) == ("failed", 1, "21211")
    assert sms.attempts == 1
    assert [s.to for s in email.sent] == [INSP_A.email, OPS.email]  # fallback, ops notice
    assert make_dispatcher(ctx).run(T0 + 10 * M) == 0  # nothing is retried later either
    assert sms.attempts == 1


def test_a_channel_missing_from_the_configuration_counts_as_a_permanent_failure(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    dispatcher = make_dispatcher(ctx)
    dispatcher.channels = {"email": email}
    dispatcher.run(T0)
    [row] = rows(store, channel=SMS)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "no channel named 'sms'" in (row.last_error or "")


# --- nobody reached --------------------------------------------------------------------


def test_every_channel_of_a_person_failing_raises_delivery_failed_and_escalates_early(
    store, ctx, sms, email, make_dispatcher
):
    alert_id = open_alert(store, ctx)
    sms.fail_always_for(INSP_A.phone)
    email.fail_always_for(INSP_A.email, code="550")
    make_dispatcher(ctx).run(T0 + M)

    with store.sessions() as session:
        failed = live_alert(session, "delivery_failed:insp-a")
        assert failed is not None
        assert (failed.severity, failed.custody_ref, failed.state) == ("critical", None, "open")
        assert "insp-a" in failed.summary
        [rule] = session.scalars(select(FindingRow.rule).where(FindingRow.alert_id == failed.id))
        assert rule == "delivery_failed"
        # Operations hears about it (its own mailbox works).
        assert ("ops", EMAIL) in sent_to(outbox(session, alert_id=failed.id))

        original = session.get(AlertRow, alert_id)
        assert original is not None
        assert original.next_action_at == T0 + M  # pulled forward from T0 + 15 minutes
        assert alert_id in [a.id for a in escalate.due_alerts(session, T0 + M)]
        escalate_due(session, original, ctx, T0 + M)
        session.commit()
        assert sent_to(outbox(session, alert_id=alert_id, level=1)) == [
            ("supt-b", SMS),
            ("supt-b", EMAIL),
        ]
    assert OPS.email in [s.to for s in email.sent]


def test_when_the_fallback_channel_fails_too_delivery_failed_is_raised(
    store, renderer, sms, email, make_dispatcher
):
    ctx = make_context(ladders=example_ladders((SMS,)))
    alert_id = open_alert(store, ctx)
    sms.fail_always_for(INSP_A.phone)
    email.fail_always_for(INSP_A.email, code="550")
    make_dispatcher(ctx).run(T0)

    insp = rows(store, person_id="insp-a", alert_id=alert_id)
    assert sent_to(insp) == [("insp-a", SMS), ("insp-a", EMAIL)]  # one try each, no more
    assert sms.attempts == 1
    with store.sessions() as session:
        assert live_alert(session, "delivery_failed:insp-a") is not None
    assert alert_row(store, alert_id).next_action_at == T0
    # The ladder names SMS only, and operations have no phone: delivery_failed still
    # reaches them, by every channel they have.
    assert [s.to for s in email.sent] == [OPS.email]
    assert "could not be reached" in email.sent[0].text


def test_a_person_reached_again_clears_their_delivery_failed_alert(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    sms.fail_next(1, permanent=True, code="21211")
    email.fail_next(1, permanent=True, code="550")
    dispatcher = make_dispatcher(ctx)
    dispatcher.run(T0)  # both fail: delivery_failed goes to operations
    with store.sessions() as session:
        assert live_alert(session, "delivery_failed:insp-a") is not None
    open_alert(store, ctx, ref="C-2")  # a later page reaches insp-a
    dispatcher.run(T0)
    with store.sessions() as session:
        assert live_alert(session, "delivery_failed:insp-a") is None
        [failed] = session.scalars(
            select(AlertRow).where(AlertRow.subject == "delivery_failed:insp-a")
        )
        assert failed.state == "resolved"
    assert INSP_A.phone in [s.to for s in sms.sent]


# --- one channel failed, another reached the person ------------------------------------


def test_one_channel_failing_after_the_other_was_sent_sends_operations_a_notice(
    store, renderer, sms, email, make_dispatcher
):
    ctx = make_context(max_attempts=2)
    open_alert(store, ctx)
    sms.fail_next(2, permanent=False, code="30003")
    dispatcher = make_dispatcher(ctx)
    dispatcher.run(T0)  # email sent, sms retried later
    [row] = rows(store, channel=SMS, purpose="notify")
    dispatcher.run(row.due_at)  # second and last try fails

    [notice] = rows(store, purpose="ops_notice")
    assert (notice.person_id, notice.channel, notice.alert_id) == ("ops", EMAIL, None)
    assert "insp-a" in notice.body_text and "sms" in notice.body_text
    assert notice.state == "sent"
    with store.sessions() as session:
        assert live_alert(session, "delivery_failed:insp-a") is None
        assert "ops_notice" in audit_events(session)


def test_a_permanent_sms_failure_before_the_email_was_sent_still_sends_operations_a_notice(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    sms.fail_next(1, permanent=True, code="21211")
    make_dispatcher(ctx).run(T0)
    assert [s.to for s in email.sent][:1] == [INSP_A.email]
    [notice] = rows(store, purpose="ops_notice")
    assert notice.person_id == "ops"


# --- an acknowledgement wins -----------------------------------------------------------


def test_an_alert_acknowledged_before_the_dispatcher_ran_sends_no_page(
    store, ctx, sms, email, make_dispatcher
):
    alert_id = open_alert(store, ctx)
    with store.sessions.begin() as session:
        code = alert_row(store, alert_id).ack_code
        assert ack.acknowledge(session, code, "insp-a", ctx, T0).ok
    assert make_dispatcher(ctx).run(T0 + S) == 0
    assert sms.sent == email.sent == []
    assert {r.state for r in rows(store)} == {"cancelled"}


def test_an_alert_acknowledged_between_claim_and_send_cancels_the_row(
    store, ctx, sms, email, make_dispatcher
):
    alert_id = open_alert(store, ctx)
    dispatcher = make_dispatcher(ctx)
    with store.sessions.begin() as session:
        claimed = [r.id for r in claim_due(session, dispatcher.worker, T0)]
    assert len(claimed) == 2
    with store.sessions.begin() as session:
        code = alert_row(store, alert_id).ack_code
        assert ack.acknowledge(session, code, "insp-a", ctx, T0 + S).ok

    for row_id in claimed:
        dispatcher.send_one(row_id, T0 + 2 * S)

    pages = rows(store, purpose="notify")
    assert [(r.state, r.sent_at) for r in pages] == [("cancelled", None)] * 2
    assert all("acknowledged" in (r.last_error or "") for r in pages)
    notify_refs = {str(r.id) for r in pages}
    assert not notify_refs & {s.reference for s in sms.sent + email.sent}
    with store.sessions() as session:
        assert audit_events(session).count("send_cancelled") == 2


def test_an_alert_resolved_before_sending_cancels_the_page(store, ctx, sms, make_dispatcher):
    open_alert(store, ctx)
    dispatcher = make_dispatcher(ctx)
    with store.sessions.begin() as session:
        claimed = [r.id for r in claim_due(session, dispatcher.worker, T0)]
    with store.sessions.begin() as session:
        sync(session, ctx, T0 + S, [])
    dispatcher.send_one(claimed[0], T0 + 2 * S)
    assert rows(store, id=claimed[0])[0].state == "cancelled"
    assert sms.sent == []


def test_acknowledged_and_resolved_notices_are_sent_even_though_the_alert_is_not_open(
    store, ctx, sms, email, make_dispatcher
):
    alert_id = open_alert(store, ctx)
    dispatcher = make_dispatcher(ctx)
    dispatcher.run(T0)
    with store.sessions.begin() as session:
        code = alert_row(store, alert_id).ack_code
        ack.acknowledge(session, code, "insp-a", ctx, T0 + M)
    assert dispatcher.run(T0 + M) == 2
    assert [r.state for r in rows(store, purpose="acknowledged")] == ["sent", "sent"]
    assert "acknowledged by insp-a" in sms.sent[-1].text


# --- a dispatcher that died after claiming ---------------------------------------------


def test_a_claimed_row_whose_lease_expired_is_sent_by_another_worker_exactly_once(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    worker_a = make_dispatcher(ctx, "worker-a")
    worker_b = make_dispatcher(ctx, "worker-b")
    with store.sessions.begin() as session:  # A claims, commits, and is killed
        claimed = [r.id for r in claim_due(session, worker_a.worker, T0)]
    assert len(claimed) == 2

    assert worker_b.run(T0 + 10 * S) == 0  # the lease (20 s) still holds
    assert worker_b.run(T0 + 30 * S) == 2
    # A comes back to life and carries on where it stopped: it no longer owns the rows.
    for row_id in claimed:
        worker_a.send_one(row_id, T0 + 30 * S)

    assert sorted(s.reference for s in sms.sent + email.sent) == sorted(map(str, claimed))
    assert [(r.state, r.claimed_by, r.attempts) for r in rows(store)] == [
        ("sent", "worker-b", 2)
    ] * 2
