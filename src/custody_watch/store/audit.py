"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.store.schema import AuditRow

SYSTEM = "custody-watch"


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
