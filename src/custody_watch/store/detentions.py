"""Detentions and their versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from custody_watch.domain import Detention
from custody_watch.ingest.record import from_record, to_record
from custody_watch.store.schema import DetentionRow, DetentionVersionRow


def record_version(
    session: Session,
    *,
    source: str,
    batch: str,
    row: int,
    detention: Detention,
    is_child: bool,
    now: datetime,
) -> bool:
    """Store one version; make it current when it is newer. True when the current record
    changed (so the rules must look again).

    Newer means the interchange format's rule: a later ``updated_at`` wins, a version without
    one is older than any with one, and between equals the one received later wins."""
    record = to_record(detention)
    current = session.scalar(
        select(DetentionRow).where(DetentionRow.custody_ref == detention.custody_ref)
    )
    if current is not None and current.record == record:
        return False  # the same content again (a re-sent row): nothing to keep
    newer = current is None or _is_newer(detention.updated_at, current.record_updated_at)
    if current is None:
        current = DetentionRow(
            custody_ref=detention.custody_ref,
            source=source,
            first_seen_at=now,
            **_columns(detention, record, is_child, now),
        )
        session.add(current)
        session.flush()
    elif newer:
        for name, value in _columns(detention, record, is_child, now).items():
            setattr(current, name, value)
    session.add(
        DetentionVersionRow(
            detention_id=current.id,
            source=source,
            batch=batch,
            row=row,
            received_at=now,
            record_updated_at=detention.updated_at,
            record=record,
            became_current=newer,
        )
    )
    return newer


def _is_newer(incoming: datetime | None, stored: datetime | None) -> bool:
    if incoming is None:
        return stored is None
    return stored is None or incoming >= stored


def _columns(
    detention: Detention, record: dict[str, object], is_child: bool, now: datetime
) -> dict[str, object]:
    return {
        "suite": detention.suite,
        "force": detention.force,
        "arrival_time": detention.arrival_time,
        "released_time": detention.released_time,
        "is_child": is_child,
        "record": record,
        "record_updated_at": detention.updated_at,
        "last_changed_at": now,
        "next_check_at": now,  # due now: the rules must see the change
    }


def due(session: Session, now: datetime, limit: int = 5000) -> Sequence[DetentionRow]:
    """Detentions whose rules must run: changed, or a threshold or event time reached."""
    return session.scalars(
        select(DetentionRow)
        .where(DetentionRow.next_check_at <= now)
        .order_by(DetentionRow.next_check_at, DetentionRow.id)
        .limit(limit)
    ).all()


def set_next_check(session: Session, detention_id: int, at: datetime | None) -> None:
    session.execute(
        update(DetentionRow).where(DetentionRow.id == detention_id).values(next_check_at=at)
    )


def next_wake(session: Session) -> datetime | None:
    return session.scalar(
        select(DetentionRow.next_check_at)
        .where(DetentionRow.next_check_at.is_not(None))
        .order_by(DetentionRow.next_check_at)
        .limit(1)
    )


def load(row: DetentionRow) -> Detention:
    return from_record(row.record)


def by_ref(session: Session, custody_ref: str) -> DetentionRow | None:
    return session.scalar(select(DetentionRow).where(DetentionRow.custody_ref == custody_ref))
