"""Claiming outbox rows so two daemons on one database never send the same message twice.

A claim moves a row to ``sending`` with a lease and a fresh claim token. On PostgreSQL the
candidates are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent dispatchers take
different rows without waiting; on both databases the claim itself is a conditional UPDATE
that must change exactly one row.

A lease is short (``[daemon] lease``, 20 s by default) and counted from the clock at the
moment of the claim, never from a cycle's start. While the holder is alive its heartbeat
renews the lease of every row it still holds (``renew``); right before the provider call the
holder re-checks its token and that the lease has not run out (``confirm``). So a row whose
lease lapsed is never sent by its old holder, and a dead daemon's rows are free within one
lease. A restarted daemon (same worker id) releases its own rows at once (``release_own``).

Each claim counts as a try. A row whose holder lost it (died, or could not record the
result) more than ``max_attempts`` times is not sent again: its outcome is unknown, and
sending it forever is worse than one page given up on and reported (see the dispatcher)."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from custody_watch.store.schema import OutboxRow

LEASE = timedelta(seconds=20)


@dataclass(frozen=True, slots=True)
class Claim:
    row_id: int
    token: str


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxRow.state == "pending", OutboxRow.due_at <= now),
        and_(
            OutboxRow.state == "sending",
            OutboxRow.lease_until < now,
            OutboxRow.attempts < OutboxRow.max_attempts,
        ),
    )


def claim_due(
    session: Session, worker: str, now: datetime, limit: int = 20, lease: timedelta = LEASE
) -> Sequence[OutboxRow]:
    """Claim up to ``limit`` due rows for ``worker``; the caller commits at once, before any
    network call, so no row lock is held while talking to Twilio. ``now`` must be read from
    the clock just before the call: the lease runs from it."""
    claims = claim_tokens(session, worker, now, limit, lease)
    if not claims:
        return []
    return session.scalars(
        select(OutboxRow).where(OutboxRow.id.in_([c.row_id for c in claims])).order_by(OutboxRow.id)
    ).all()


def claim_tokens(
    session: Session, worker: str, now: datetime, limit: int = 20, lease: timedelta = LEASE
) -> list[Claim]:
    claimed: list[Claim] = []
    for _ in range(5):
        claimed, contested = _claim_once(session, worker, now, limit, lease)
        # On SQLite another dispatcher may take every candidate between our look and our
        # claim; that is not "nothing due", so look again rather than give up the run.
        if claimed or not contested:
            break
    return claimed


def _claim_once(
    session: Session, worker: str, now: datetime, limit: int, lease: timedelta
) -> tuple[list[Claim], bool]:
    candidates = (
        select(OutboxRow.id, OutboxRow.state, OutboxRow.attempts)
        .where(_claimable(now))
        .order_by(OutboxRow.due_at, OutboxRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed: list[Claim] = []
    contested = False
    for row_id, state, attempts in session.execute(candidates).all():
        token = secrets.token_hex(16)
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.state == state, OutboxRow.attempts == attempts)
            .where(_claimable(now))
            .values(
                state="sending",
                claimed_by=worker,
                claim_token=token,
                lease_until=now + lease,
                attempts=attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(Claim(row_id, token))
        else:
            contested = True
    return claimed, contested


def lapsed_out_of_tries(session: Session, now: datetime) -> Sequence[OutboxRow]:
    """Rows whose claim lapsed after their last try: a holder took them ``max_attempts``
    times and never recorded an outcome. Not claimable again (see the module docstring)."""
    query = select(OutboxRow).where(
        OutboxRow.state == "sending",
        OutboxRow.lease_until < now,
        OutboxRow.attempts >= OutboxRow.max_attempts,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query.order_by(OutboxRow.id)).all()


def confirm(session: Session, claim: Claim, now: datetime, lease: timedelta) -> bool:
    """Right before the provider call: true when the claim is still ours and its lease has
    not run out; the lease is renewed from ``now`` so the call has all of it."""
    result = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == claim.row_id,
            OutboxRow.claim_token == claim.token,
            OutboxRow.state == "sending",
            OutboxRow.lease_until > now,
        )
        .values(lease_until=now + lease, tried_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def renew(session: Session, tokens: Collection[str], now: datetime, lease: timedelta) -> int:
    """The heartbeat: extend the leases of the claims still held (and not yet lapsed, which
    another worker may already be taking over). Returns how many were renewed."""
    if not tokens:
        return 0
    result = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.claim_token.in_(list(tokens)),
            OutboxRow.state == "sending",
            OutboxRow.lease_until >= now,
        )
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def release_own(session: Session, worker: str, now: datetime) -> list[int]:
    """On start: rows this worker id held when its process died go back to ``pending`` at
    once, instead of waiting out the lease. The try they used still counts."""
    ids = list(
        session.scalars(
            select(OutboxRow.id).where(OutboxRow.state == "sending", OutboxRow.claimed_by == worker)
        )
    )
    if ids:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids), OutboxRow.state == "sending")
            .where(OutboxRow.claimed_by == worker)
            .values(state="pending", due_at=now, lease_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
    return ids


def unclaim(session: Session, tokens: Collection[str]) -> int:
    """Give claims back untried: ``pending`` again, and the try they counted is returned."""
    if not tokens:
        return 0
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.claim_token.in_(list(tokens)), OutboxRow.state == "sending")
        .values(
            state="pending",
            attempts=OutboxRow.attempts - 1,
            claim_token=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]
