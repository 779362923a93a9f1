"""The append-only audit log."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.store.schema import AuditRow

SYSTEM = "custody-watch"
events_log = logging.getLogger("custody_watch.events")
# Audit events that make one human log line at INFO (``run`` without -v shows these).
HUMAN_EVENTS = {
    "opened": "alert opened",
    "finding_raised": "finding raised",
    "sent": "page sent",
    "acknowledged": "acknowledged",
    "resolved": "alert resolved",
}


def record(
    session: Session,
    at: datetime,
    event: str,
    *,
    actor: str = SYSTEM,
    detail: str = "",
    alert_id: int | None = None,
    custody_ref: str | None = None,
) -> None:
    if event in HUMAN_EVENTS:
        # The few lines a person watching the daemon wants, one per event (the audit row
        # is the record; this is the terminal's view of it).
        events_log.info(
            "%s%s: %s", HUMAN_EVENTS[event], f" {custody_ref}" if custody_ref else "", detail
        )
    session.add(
        AuditRow(
            at=at,
            event=event,
            actor=actor,
            detail=detail,
            alert_id=alert_id,
            custody_ref=custody_ref,
        )
    )


def events(session: Session, *, custody_ref: str | None = None) -> list[AuditRow]:
    query = select(AuditRow).order_by(AuditRow.at, AuditRow.id)
    if custody_ref is not None:
        query = query.where(AuditRow.custody_ref == custody_ref)
    return list(session.scalars(query))
