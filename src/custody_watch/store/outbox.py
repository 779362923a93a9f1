"""Outbox rows: one message to one person on one channel. New rows due now (``pending``),
who an alert's pages reached (``told``), and cancelling an alert's unsent pages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from custody_watch.domain.states import TOLD_STATES, OutboxState
from custody_watch.store.schema import OutboxRow

# An alert's page, as against a notice (acknowledged, resolved) or a notice to operations.
PAGE = "notify"


@dataclass(frozen=True, slots=True)
class Route:
    """Where a message goes and why: ``dedupe_key`` makes queueing it twice a no-op."""

    dedupe_key: str
    alert_id: int | None
    purpose: str
    person_id: str
    channel: str
    address: str
    level: int | None = None


@dataclass(frozen=True, slots=True)
class Body:
    subject: str
    text: str
    html: str | None = None


def pending(route: Route, body: Body, max_attempts: int, now: datetime) -> OutboxRow:
    """A row ready for a dispatcher to claim. Its token, not its sequential id, goes into
    status-callback URLs, so nobody can guess another message's callback."""
    return OutboxRow(
        dedupe_key=route.dedupe_key,
        alert_id=route.alert_id,
        purpose=route.purpose,
        person_id=route.person_id,
        channel=route.channel,
        address=route.address,
        level=route.level,
        subject=body.subject,
        body_text=body.text,
        body_html=body.html,
        state=OutboxState.PENDING,
        due_at=now,
        created_at=now,
        attempts=0,
        max_attempts=max_attempts,
        token=secrets.token_urlsafe(24),
    )


def told(session: Session, alert_id: int) -> list[tuple[str, str]]:
    """Everyone told about an alert: (person, channel) of each page that went or may yet go
    (a page cancelled or failed reached nobody)."""
    rows = session.execute(
        select(OutboxRow.person_id, OutboxRow.channel)
        .where(OutboxRow.alert_id == alert_id, OutboxRow.purpose == PAGE)
        .where(OutboxRow.state.in_(TOLD_STATES))
        .order_by(OutboxRow.id)
    ).all()
    return [(person, channel) for person, channel in rows]


def cancel_pages(session: Session, alert_id: int) -> None:
    """An acknowledged, snoozed or resolved alert's pages not yet sent stay unsent."""
    session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.alert_id == alert_id,
            OutboxRow.purpose == PAGE,
            OutboxRow.state == OutboxState.PENDING,
        )
        .values(
            state=OutboxState.CANCELLED,
            last_error="alert acknowledged or resolved before sending",
        )
    )
