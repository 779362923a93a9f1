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

from sqlalchemy import ColumnElement, Row, and_, func, or_, select, update
from sqlalchemy.orm import Session

from custody_watch.domain.states import OutboxState
from custody_watch.store.outbox import PAGE
from custody_watch.store.schema import OutboxRow

LEASE = timedelta(seconds=20)


@dataclass(frozen=True, slots=True)
class Claim:
    row_id: int
    token: str
    # A bundle: the other pages to the same person on the same channel, claimed with the
    # same token in the same transaction as ``row_id`` (see ``_claim_bundle``).
    members: tuple[int, ...] = ()


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxRow.state == OutboxState.PENDING, OutboxRow.due_at <= now),
        and_(
            OutboxRow.state == OutboxState.SENDING,
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
    session: Session,
    worker: str,
    now: datetime,
    limit: int = 20,
    lease: timedelta = LEASE,
    bundle_window: timedelta = timedelta(0),
) -> list[Claim]:
    """``bundle_window`` > 0: a page claimed takes with it every other page to the same
    person on the same channel due within the window (one message for them all)."""
    claimed: list[Claim] = []
    for _ in range(5):
        claimed, contested = _claim_once(session, _Terms(worker, now, lease, bundle_window), limit)
        # On SQLite another dispatcher may take every candidate between our look and our
        # claim; that is not "nothing due", so look again rather than give up the run.
        if claimed or not contested:
            break
    return claimed


@dataclass(frozen=True, slots=True)
class _Terms:
    """A claim's terms: who claims, as of when, for how long, and how far ahead a page may
    be taken with another to the same person on the same channel (0: never)."""

    worker: str
    now: datetime
    lease: timedelta
    window: timedelta = timedelta(0)


def _claim_once(session: Session, terms: _Terms, limit: int) -> tuple[list[Claim], bool]:
    """One look at the due rows, claiming each by a conditional UPDATE (and its bundle);
    and whether another dispatcher took any of them first."""
    postgres = session.get_bind().dialect.name == "postgresql"
    claimed: list[Claim] = []
    contested = False
    for row_id, state, attempts, purpose, person, channel in _candidates(
        session, terms, limit, postgres
    ):
        bundling = terms.window > timedelta(0) and purpose == PAGE
        if bundling and postgres and not _group_lock(session, person, channel):
            contested = True  # another dispatcher is claiming this person's pages now
            continue
        token = secrets.token_hex(16)
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.state == state, OutboxRow.attempts == attempts)
            .where(_claimable(terms.now))
            .values(
                state=OutboxState.SENDING,
                claimed_by=terms.worker,
                claim_token=token,
                lease_until=terms.now + terms.lease,
                attempts=attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            contested = True
            continue
        lead = Claim(row_id, token)
        members = _claim_bundle(session, terms, lead, person, channel) if bundling else ()
        claimed.append(Claim(row_id, token, members))
    return claimed, contested


def _candidates(
    session: Session, terms: _Terms, limit: int, postgres: bool
) -> Sequence[Row[int, OutboxState, int, str, str, str]]:
    """The rows due first: (id, state, attempts, purpose, person, channel). On PostgreSQL,
    not bundling, they are locked and those another dispatcher holds are skipped."""
    candidates = (
        select(
            OutboxRow.id,
            OutboxRow.state,
            OutboxRow.attempts,
            OutboxRow.purpose,
            OutboxRow.person_id,
            OutboxRow.channel,
        )
        .where(_claimable(terms.now))
        .order_by(OutboxRow.due_at, OutboxRow.id)
        .limit(limit)
    )
    if postgres and terms.window <= timedelta(0):
        candidates = candidates.with_for_update(skip_locked=True)
    # Bundling, a person's pages on a channel are written only under that group's lock (see
    # ``_group_lock``), so candidates are not row-locked: a candidate locked by another
    # dispatcher would be missing from its group's bundle. Two dispatchers then look at the
    # same candidates; the conditional UPDATE (or the group lock) decides, as on SQLite.
    return session.execute(candidates).all()


def _group_lock(session: Session, person: str, channel: str) -> bool:
    """PostgreSQL: one dispatcher at a time claims a person's pages on a channel (a lock for
    this transaction; taken or skipped, never waited for), so two never split a bundle."""
    # Advisory locks are the cluster's: the schema in the key keeps two deployments (or two
    # test schemas) on one server from waiting on each other's inspectors.
    key = func.concat(func.current_schema(), f":custody-watch:bundle:{person}:{channel}")
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtext(key)))))


def _claim_bundle(
    session: Session, terms: _Terms, lead: Claim, person: str, channel: str
) -> tuple[int, ...]:
    """Every other pending page to ``person`` on ``channel`` due within the window, claimed
    under the lead's token in the lead's transaction. On PostgreSQL the caller holds the
    group's lock, and only a group's lock holder writes its pending pages as a claim, so the
    group is taken whole without waiting on another claimer (no deadlock). On SQLite the
    lead's UPDATE already holds the database's one write lock."""
    members = select(OutboxRow.id).where(
        OutboxRow.person_id == person,
        OutboxRow.channel == channel,
        OutboxRow.purpose == PAGE,
        OutboxRow.state == OutboxState.PENDING,
        OutboxRow.due_at <= terms.now + terms.window,
        OutboxRow.id != lead.row_id,
    )
    ids = list(session.scalars(members))
    if not ids:
        return ()
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids), OutboxRow.state == OutboxState.PENDING)
        .values(
            state=OutboxState.SENDING,
            claimed_by=terms.worker,
            claim_token=lead.token,
            lease_until=terms.now + terms.lease,
            attempts=OutboxRow.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return tuple(
        session.scalars(
            select(OutboxRow.id)
            .where(OutboxRow.claim_token == lead.token, OutboxRow.id != lead.row_id)
            .order_by(OutboxRow.id)
        )
    )


def lapsed_out_of_tries(session: Session, now: datetime) -> Sequence[OutboxRow]:
    """Rows whose claim lapsed after their last try: a holder took them ``max_attempts``
    times and never recorded an outcome. Not claimable again (see the module docstring)."""
    query = select(OutboxRow).where(
        OutboxRow.state == OutboxState.SENDING,
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
            OutboxRow.state == OutboxState.SENDING,
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
    still_held = (
        OutboxRow.claim_token.in_(list(tokens)),
        OutboxRow.state == OutboxState.SENDING,
        OutboxRow.lease_until >= now,
    )
    renewed = update(OutboxRow).where(*still_held)
    if session.get_bind().dialect.name == "postgresql":
        # The rows are locked first, in id order, skipping any a sender is recording at this
        # moment (its transaction ends the claim or renews it anyway). A plain UPDATE of
        # several rows waited on them in no set order, and deadlocked against a sender
        # recording a bundle's rows (seen with three daemons, bench/national.py). SQLite has
        # one writer at a time, and a read before the write would only make it fail.
        held = select(OutboxRow.id).where(*still_held).order_by(OutboxRow.id)
        ids = list(session.scalars(held.with_for_update(skip_locked=True)))
        if not ids:
            return 0
        renewed = renewed.where(OutboxRow.id.in_(ids))
    result = session.execute(
        renewed.values(lease_until=now + lease).execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def release_own(session: Session, worker: str, now: datetime) -> list[int]:
    """On start: rows this worker id held when its process died go back to ``pending`` at
    once, instead of waiting out the lease. The try they used still counts."""
    ids = list(
        session.scalars(
            select(OutboxRow.id).where(
                OutboxRow.state == OutboxState.SENDING, OutboxRow.claimed_by == worker
            )
        )
    )
    if ids:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids), OutboxRow.state == OutboxState.SENDING)
            .where(OutboxRow.claimed_by == worker)
            .values(state=OutboxState.PENDING, due_at=now, lease_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
    return ids


def unclaim(session: Session, tokens: Collection[str]) -> int:
    """Give claims back untried: ``pending`` again, and the try they counted is returned."""
    if not tokens:
        return 0
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.claim_token.in_(list(tokens)), OutboxRow.state == OutboxState.SENDING)
        .values(
            state=OutboxState.PENDING,
            attempts=OutboxRow.attempts - 1,
            claim_token=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]
