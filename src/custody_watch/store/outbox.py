"""New outbox rows: one message to one person on one channel, due now."""

from __future__ import annotations

import secrets
from datetime import datetime

from custody_watch.store.schema import OutboxRow


def pending(
    *,
    dedupe_key: str,
    alert_id: int | None,
    purpose: str,
    person_id: str,
    channel: str,
    address: str,
    level: int | None,
    subject: str,
    body_text: str,
    body_html: str | None,
    max_attempts: int,
    now: datetime,
) -> OutboxRow:
    """A row ready for a dispatcher to claim. Its token, not its sequential id, goes into
    status-callback URLs, so nobody can guess another message's callback."""
    return OutboxRow(
        dedupe_key=dedupe_key,
        alert_id=alert_id,
        purpose=purpose,
        person_id=person_id,
        channel=channel,
        address=address,
        level=level,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        state="pending",
        due_at=now,
        created_at=now,
        attempts=0,
        max_attempts=max_attempts,
        token=secrets.token_urlsafe(24),
    )
