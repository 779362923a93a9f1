"""The access log (Data Protection Act 2018 s.62): every consultation or disclosure of a
detention's record, append-only.

A row says when, who (a user name, or ``digest`` for the daily digest), which record
(custody ref), what (``detention page``, ``api record``, ``digest sent``, ...) and from where:
the client address for a consultation; for a disclosure (the digest) the recipients it went
to, as s.62(3) asks for "the identity of the recipients".

Every detention record consulted is logged, not only children's: whether a detention is a
child's is itself worked out from the record (date of birth, arrival), and a log that
skipped some rows would need that judgement to be right each time to be complete.

Append-only is enforced here for the whole application: a session refuses to flush a change
to or a deletion of an ``AuditRow`` or ``AccessRow``, and refuses an ORM UPDATE or DELETE
statement on either table. On PostgreSQL, triggers (migration 0007) refuse UPDATE and
DELETE even from plain SQL. The retention job (``store.retention``) is the one sanctioned
deleter: its DELETE statements carry ``RETENTION`` in their execution options, in a
transaction it marked with ``allow_retention_delete``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Update, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from custody_watch.store.schema import AccessRow, AuditRow
from custody_watch.times import utc_z

APPEND_ONLY = (AuditRow, AccessRow)
# Execution option that marks a DELETE as the retention job's (the only one allowed).
RETENTION = "custody_watch_retention"
DIGEST_ACTOR = "digest"
WHAT_LENGTH = 64  # the column's size (store.schema)


class AppendOnlyError(RuntimeError):
    """An UPDATE or DELETE of an audit or access row was attempted."""


def record(
    session: Session,
    at: datetime,
    actor: str,
    custody_ref: str,
    what: str,
    address: str | None,
) -> None:
    session.add(
        AccessRow(
            at=at,
            actor=actor,
            custody_ref=custody_ref,
            what=what[:WHAT_LENGTH],
            address=address,
        )
    )


def record_many(
    session: Session,
    at: datetime,
    actor: str,
    custody_refs: Sequence[str],
    what: str,
    address: str | None,
) -> int:
    """One row per record (a digest names several children); returns how many."""
    refs = list(dict.fromkeys(custody_refs))
    for ref in refs:
        record(session, at, actor, ref, what, address)
    return len(refs)


def accesses(
    session: Session,
    *,
    custody_ref: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[AccessRow]:
    order = (
        (AccessRow.at.desc(), AccessRow.id.desc())
        if newest_first
        else (
            AccessRow.at,
            AccessRow.id,
        )
    )
    query = select(AccessRow).order_by(*order)
    if custody_ref is not None:
        query = query.where(AccessRow.custody_ref == custody_ref)
    if actor is not None:
        query = query.where(AccessRow.actor == actor)
    if since is not None:
        query = query.where(AccessRow.at >= since)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def as_json(row: AccessRow) -> dict[str, Any]:
    """The shape ``custody-watch access-log --format json`` prints for a row."""
    return {
        "at": utc_z(row.at),
        "user": row.actor,
        "custody_ref": row.custody_ref,
        "what": row.what,
        "from": row.address,
    }


def allow_retention_delete(session: Session) -> None:
    """For the rest of this transaction only: on PostgreSQL the append-only triggers
    (migration 0007) let a DELETE through. Only ``store.retention`` calls this, right before
    its DELETE, which it also marks with ``RETENTION`` for the session guard below."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('custody_watch.retention', 'on', true)"))


# The guard --------------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _no_changes_to_logged_rows(session: Session, _context: Any, _instances: Any) -> None:
    for row in session.deleted:
        if isinstance(row, APPEND_ONLY):
            raise AppendOnlyError(f"{row.__tablename__} is append-only: rows are never deleted")
    for row in session.dirty:
        if isinstance(row, APPEND_ONLY) and session.is_modified(row):
            raise AppendOnlyError(f"{row.__tablename__} is append-only: rows are never changed")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes_to_logged_rows(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, Update | Delete):
        return
    table = statement.table
    names = {cls.__table__.name for cls in APPEND_ONLY}  # type: ignore[attr-defined]
    if getattr(table, "name", None) not in names:
        return
    if isinstance(statement, Delete) and state.execution_options.get(RETENTION):
        return  # the retention job, past the configured period
    raise AppendOnlyError(f"{getattr(table, 'name', '')} is append-only: no UPDATE or DELETE")
