"""Sending claimed outbox rows and recording what happened.

For each claimed row, in its own transaction:

1. Re-read the alert: a page for an alert acknowledged or resolved since it was queued is
   cancelled (an acknowledgement wins).
2. Send through the row's channel. The rendered text was fixed when the row was written.
3. Success: ``sent``, with the provider's id (Twilio's MessageSid) for status callbacks.
4. Transient failure with tries left: back to ``pending``, due after a backoff.
5. Permanent failure, or no tries left: ``failed``; then ``fallback.after_failure`` tries the
   person's other channels and raises ``delivery_failed`` when nobody was reached."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts.context import AlertContext
from custody_watch.alerts.system import clear_system
from custody_watch.dispatch import fallback
from custody_watch.dispatch.backoff import retry_delay
from custody_watch.dispatch.claim import claim_due
from custody_watch.messages.render import Renderer
from custody_watch.notify.base import Channel, DeliveryError, Message
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow, OutboxRow


@dataclass
class Dispatcher:
    sessions: sessionmaker[Session]
    channels: Mapping[str, Channel]
    alert_ctx: AlertContext
    renderer: Renderer
    worker: str
    status_callback_base: str | None = None
    rng: random.Random = field(default_factory=random.Random)

    def run(self, now: datetime, batch: int = 20, max_batches: int = 50) -> int:
        """Send everything due now; returns how many rows were handled."""
        handled = 0
        for _ in range(max_batches):
            with self.sessions.begin() as session:
                claimed = [row.id for row in claim_due(session, self.worker, now, batch)]
            if not claimed:
                break
            for row_id in claimed:
                self.send_one(row_id, now)
                handled += 1
        return handled

    def send_one(self, row_id: int, now: datetime) -> None:
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.state != "sending" or row.claimed_by != self.worker:
                return  # another dispatcher took it over after our lease ran out
            if self._superseded(session, row, now):
                return
            message = Message(
                to=row.address,
                text=row.body_text,
                subject=row.subject,
                html=row.body_html,
                status_callback=self._callback(row),
                reference=str(row.id),
            )
        # The network call happens outside any transaction: no row lock is held meanwhile.
        channel = self.channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(
                    f"no channel named {row.channel!r} is configured", permanent=True
                )
            receipt = channel.send(message)
        except DeliveryError as exc:
            self._failed(row_id, exc, now)
            return
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, row_id)
            assert row is not None
            row.provider_id = receipt.provider_id
            row.sent_at = now
            row.lease_until = None
            if row.state != "sending":
                # A status callback (failed, undelivered) beat us here: it has the last word.
                return
            row.state = "sent"
            row.provider_status = receipt.status
            audit.record(
                session,
                now,
                "sent",
                detail=f"{row.purpose} to {row.person_id} by {row.channel} (try {row.attempts})",
                alert_id=row.alert_id,
                custody_ref=_ref(session, row),
            )
            if row.purpose == "notify":
                fallback.after_success(session, row, self.alert_ctx, self.renderer, now)
                # Reached again: a delivery_failed alert about this person is over.
                clear_system(
                    session,
                    f"delivery_failed:{row.person_id}",
                    self.alert_ctx,
                    self.renderer,
                    now,
                    f"{row.person_id} reached by {row.channel}",
                )

    def _superseded(self, session: Session, row: OutboxRow, now: datetime) -> bool:
        if row.purpose != "notify" or row.alert_id is None:
            return False
        alert = session.get(AlertRow, row.alert_id)
        if alert is not None and alert.state == "open":
            return False
        row.state = "cancelled"
        row.last_error = f"alert {alert.state if alert else 'gone'} before sending"
        audit.record(
            session,
            now,
            "send_cancelled",
            detail=f"to {row.person_id} by {row.channel}: {row.last_error}",
            alert_id=row.alert_id,
            custody_ref=alert.custody_ref if alert else None,
        )
        return True

    def _failed(self, row_id: int, exc: DeliveryError, now: datetime) -> None:
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, row_id)
            assert row is not None
            row.last_error = str(exc)
            row.error_code = exc.code
            row.lease_until = None
            final = exc.permanent or row.attempts >= row.max_attempts
            kind = "permanent" if exc.permanent else "transient"
            if not final:
                row.state = "pending"
                row.due_at = now + retry_delay(row.attempts, self.rng, retry_after=exc.retry_after)
                audit.record(
                    session,
                    now,
                    "send_retry",
                    detail=(
                        f"to {row.person_id} by {row.channel}: {kind} error {exc}; "
                        f"retry at {row.due_at.isoformat()}"
                    ),
                    alert_id=row.alert_id,
                    custody_ref=_ref(session, row),
                )
                return
            row.state = "failed"
            audit.record(
                session,
                now,
                "send_failed",
                detail=(
                    f"to {row.person_id} by {row.channel} after {row.attempts} tries: "
                    f"{kind} error {exc}"
                ),
                alert_id=row.alert_id,
                custody_ref=_ref(session, row),
            )
            fallback.after_failure(session, row, self.alert_ctx, self.renderer, now)

    def _callback(self, row: OutboxRow) -> str | None:
        if not self.status_callback_base:
            return None
        return f"{self.status_callback_base.rstrip('/')}/twilio/status?m={row.token}"


def _ref(session: Session, row: OutboxRow) -> str | None:
    if row.alert_id is None:
        return None
    alert = session.get(AlertRow, row.alert_id)
    return alert.custody_ref if alert else None
