"""A page failed for good is recorded one way (``failure.record_failure``), whether this
daemon's send gave up or Twilio's status callback said ``undelivered`` after it went: the
same state, audit entry and fallback."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.support import (
    EMAIL,
    SMS,
    T0,
    M,
    Store,
    example_ladders,
    finding,
    make_context,
    sync,
)
from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.deps import AlertDeps
from custody_watch.clock import FixedClock
from custody_watch.dispatch.failure import record_failure
from custody_watch.domain import Severity
from custody_watch.store.schema import AuditRow, OutboxRow
from custody_watch.web.twilio_hooks import record_status

SMS_ONLY = example_ladders((SMS,))


@dataclass(frozen=True)
class Web:
    """What the status webhook reads of the web side's context."""

    sessions: sessionmaker[Session]
    clock: FixedClock
    alerts: AlertDeps


def open_page(store: Store, ctx: AlertDeps, ref: str) -> int:
    """An alert whose level-1 SMS page to insp-a is queued; returns the page's row id."""
    with store.sessions.begin() as session:
        alert = sync(session, ctx, T0, [finding(Severity.HIGH, ref=ref)], ref=ref)
        assert alert is not None
        [row] = session.scalars(select(OutboxRow).where(OutboxRow.alert_id == alert.id))
        return row.id


def after(store: Store, row_id: int) -> tuple[str, list[str], list[str]]:
    """The row's state, the audit entries about its alert from its first failure on, and
    the channels its alert's pages are on now."""
    with store.sessions() as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        failed_at = session.scalar(
            select(func.min(AuditRow.id)).where(
                AuditRow.alert_id == row.alert_id, AuditRow.event == "send_failed"
            )
        )
        assert failed_at is not None
        trail = session.scalars(
            select(AuditRow.event)
            .where(AuditRow.alert_id == row.alert_id, AuditRow.id >= failed_at)
            .order_by(AuditRow.id)
        )
        channels = session.scalars(
            select(OutboxRow.channel)
            .where(OutboxRow.alert_id == row.alert_id)
            .order_by(OutboxRow.id)
        )
        return row.state, list(trail), list(channels)


def test_a_send_that_gives_up_and_an_undelivered_status_are_recorded_alike(
    store, sms, make_dispatcher
):
    ctx = make_context(ladders=SMS_ONLY)
    refused, went = open_page(store, ctx, "C-1"), open_page(store, ctx, "C-2")
    sms.fail_next(1, permanent=True, code="21211")  # C-1's SMS: refused for good
    make_dispatcher(ctx).run(T0)  # and C-2's goes
    with store.sessions() as session:
        sid = session.get(OutboxRow, went).provider_id  # type: ignore[union-attr]
    web = Web(store.sessions, FixedClock(T0 + M), ctx)
    # Then Twilio says C-2's never arrived.
    assert record_status(web, None, sid, "undelivered", "30003", {}) == "undelivered"  # type: ignore[arg-type]
    make_dispatcher(ctx).run(T0 + M)

    by_sender, by_status = after(store, refused), after(store, went)
    # Each fell back to insp-a's email, which went, and operations heard of the SMS.
    trail = ["send_failed", "fallback", "sent", "ops_notice"]
    assert by_sender == by_status == ("failed", trail, [SMS, EMAIL])


def test_a_failure_recorded_after_an_outage_runs_its_fallback_only_once(store):
    ctx = make_context(ladders=SMS_ONLY)
    row_id = open_page(store, ctx, "C-1")
    alerts = AlertDelivery(ctx)
    for at in (T0, T0 + M):  # given up on in an outage, then failing again when resent
        with store.sessions.begin() as session:
            row = session.get(OutboxRow, row_id)
            assert row is not None
            record_failure(session, row, ": transient error", at, alerts, outage=True)
            # The fallback reached insp-a by email: a second fallback would tell operations.
            session.execute(
                update(OutboxRow).where(OutboxRow.channel == EMAIL).values(state="sent")
            )
    trail = ["send_failed", "fallback", "send_failed"]
    assert after(store, row_id) == ("failed", trail, [SMS, EMAIL])
