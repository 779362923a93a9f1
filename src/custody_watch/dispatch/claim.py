"""Claiming outbox rows so two daemons on one database never send the same message twice.

A claim moves a row to ``sending`` with a lease. On PostgreSQL the candidates are locked with
``FOR UPDATE SKIP LOCKED`` so concurrent dispatchers take different rows without waiting; on
both databases the claim itself is a conditional UPDATE that must change exactly one row. A
dispatcher that dies after claiming leaves the lease to expire; the row is then claimed
again and sent (at least once: a duplicate is better than a miss)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from custody_watch.store.schema import OutboxRow

LEASE = timedelta(minutes=2)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxRow.state == "pending", OutboxRow.due_at <= now),
        and_(OutboxRow.state == "sending", OutboxRow.lease_until < now),
    )


def claim_due(
    session: Session, worker: str, now: datetime, limit: int = 20, lease: timedelta = LEASE
) -> Sequence[OutboxRow]:
    """Claim up to ``limit`` due rows for ``worker``; the caller commits at once, before any
    network call, so no row lock is held while talking to Twilio."""
    for _ in range(5):
        claimed, contested = _claim_once(session, worker, now, limit, lease)
        # On SQLite another dispatcher may take every candidate between our look and our
        # claim; that is not "nothing due", so look again rather than give up the run.
        if claimed or not contested:
            break
    if not claimed:
        return []
    return session.scalars(
        select(OutboxRow).where(OutboxRow.id.in_(claimed)).order_by(OutboxRow.id)
    ).all()


def _claim_once(
    session: Session, worker: str, now: datetime, limit: int, lease: timedelta
) -> tuple[list[int], bool]:
    candidates = (
        select(OutboxRow.id, OutboxRow.state, OutboxRow.attempts)
        .where(_claimable(now))
        .order_by(OutboxRow.due_at, OutboxRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed: list[int] = []
    contested = False
    for row_id, state, attempts in session.execute(candidates).all():
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.state == state, OutboxRow.attempts == attempts)
            .where(_claimable(now))
            .values(
                state="sending", claimed_by=worker, lease_until=now + lease, attempts=attempts + 1
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
        else:
            contested = True
    return claimed, contested
