"""Rejected rows, kept with their source, row, reason and raw text, never dropped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custody_watch.ingest import Rejection
from custody_watch.store.schema import QuarantineRow


def add(
    session: Session, source: str, file: str, rejections: Iterable[Rejection], now: datetime
) -> int:
    rows = [
        QuarantineRow(
            source=source,
            file=file,
            row=r.row,
            custody_ref=r.custody_ref,
            error=r.error,
            raw=r.raw,
            received_at=now,
        )
        for r in rejections
    ]
    session.add_all(rows)
    return len(rows)


def add_problem(session: Session, source: str, file: str, error: str, now: datetime) -> None:
    """A whole file that could not be read (not UTF-8, unreadable) is quarantined as row 0."""
    session.add(
        QuarantineRow(
            source=source,
            file=file,
            row=0,
            custody_ref=None,
            error=error,
            raw="",
            received_at=now,
        )
    )


def listing(session: Session, limit: int | None = None) -> Sequence[QuarantineRow]:
    query = select(QuarantineRow).order_by(QuarantineRow.received_at, QuarantineRow.id)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def count_between(session: Session, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(QuarantineRow)
            .where(QuarantineRow.received_at >= start, QuarantineRow.received_at < end)
        )
        or 0
    )
