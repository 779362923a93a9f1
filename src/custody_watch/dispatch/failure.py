"""Marking a send failed for good: the one place it happens, whether this daemon's own send
gave up (``Dispatcher``), a claim lapsed once too often, or Twilio's status callback said
``failed``/``undelivered`` later (``web.twilio_hooks``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from custody_watch.dispatch import fallback
from custody_watch.dispatch.alert_side import AlertSide
from custody_watch.domain.states import OutboxState
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow, OutboxRow


def record_failure(
    session: Session,
    row: OutboxRow,
    how: str,
    at: datetime,
    alerts: AlertSide,
    *,
    outage: bool | None = None,
) -> None:
    """1. ``row`` is ``failed``;
    2. the ``send_failed`` audit entry: "to <person> by <channel>" then ``how`` (": the
       error", " after 3 tries: transient error ...");
    3. the follow-up, ``fallback.after_failure``: another channel, ``delivery_failed``, the
       alert's next level now.

    ``outage``, for this daemon's own send: whether the failure was transient, so the
    channel may come back (the row is marked ``exhausted`` and sent again when it answers).
    A row that failed that way before had its follow-up then, and it does not run twice.
    None (a status callback, a lapsed claim): the mark is left alone and the follow-up
    runs."""
    row.state = OutboxState.FAILED
    handled_before = False
    if outage is not None:
        handled_before = row.exhausted
        row.exhausted = outage
    audit.record(
        session,
        at,
        "send_failed",
        detail=f"to {row.person_id} by {row.channel}{how}",
        alert_id=row.alert_id,
        custody_ref=custody_ref_of(session, row),
    )
    if not handled_before:
        fallback.after_failure(session, row, alerts, at)


def custody_ref_of(session: Session, row: OutboxRow) -> str | None:
    """The custody ref of the alert ``row`` is about, for its audit entries."""
    if row.alert_id is None:
        return None
    alert = session.get(AlertRow, row.alert_id)
    return alert.custody_ref if alert else None
