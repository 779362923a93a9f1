"""Web login sessions, kept server-side so that they can be ended.

The browser's cookie holds a random token; only its SHA-256 is stored, so a copy of the
database (a backup, a read-only role) cannot be turned into a logged-in browser. Each
session has its own ``csrf_secret``: the forms' CSRF token is derived from it, so an old
token dies with its session.

A session is live while it is not ended, its absolute end (``expires_at``, the login plus
``[web] session_lifetime``) has not come, and its last request was less than ``[web]
session_idle_timeout`` ago. Every function takes ``now``: the caller's clock decides."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from custody_watch.store.schema import WebSessionRow

# Why a session ended, as stored in ``ended_reason``.
LOGOUT = "logout"
PASSWORD_CHANGED = "password_changed"
USER_DISABLED = "user_disabled"
ENDED_BY_ADMIN = "ended_by_admin"
IDLE = "idle"
EXPIRED = "expired"
# Rows of sessions dead this long are deleted as new ones are made: the audit log keeps the
# logins and logouts; this table only has to answer "is this cookie live?".
KEEP_DEAD = timedelta(days=7)
# A request moves last_seen_at on only when it is this much older: a page's burst of
# requests costs one write, not one each (the idle timeout is then at most this early).
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Live:
    """What a request needs of its session (detached from the database session)."""

    token_hash: str
    username: str
    csrf_secret: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create(
    session: Session,
    username: str,
    now: datetime,
    lifetime: timedelta,
    address: str | None = None,
) -> tuple[str, Live]:
    """A new session for ``username``: the token for the cookie, and the session. Sessions
    dead for more than ``KEEP_DEAD`` go, so the table stays the size of its live ones."""
    purge(session, now - KEEP_DEAD)
    token = secrets.token_urlsafe(32)
    row = WebSessionRow(
        token_hash=token_hash(token),
        username=username,
        csrf_secret=secrets.token_hex(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        ended_at=None,
        ended_reason=None,
        address=address[:200] if address else None,
    )
    session.add(row)
    return token, _live(row)


def touch(session: Session, token: str, now: datetime, idle_timeout: timedelta) -> Live | None:
    """The live session whose cookie holds ``token``, its last request moved to ``now``;
    None when there is none. A session found past its idle or absolute end is ended here,
    with the reason, so the table says what happened to it."""
    if not token or len(token) > 200:
        return None
    row = session.get(WebSessionRow, token_hash(token))
    if row is None or row.ended_at is not None:
        return None
    if now >= row.expires_at:
        _end(row, now, EXPIRED)
        return None
    if now - row.last_seen_at >= idle_timeout:
        _end(row, now, IDLE)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return _live(row)


def end(session: Session, token_hash_: str, now: datetime, reason: str) -> bool:
    """End one session (by its token's hash); False when it had already ended."""
    row = session.get(WebSessionRow, token_hash_)
    if row is None or row.ended_at is not None:
        return False
    _end(row, now, reason)
    return True


def end_for_user(session: Session, username: str, now: datetime, reason: str) -> int:
    """End every session of ``username``; how many were still open."""
    result = session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.username == username, WebSessionRow.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_all(session: Session, now: datetime, reason: str) -> int:
    """End every open session of every user; how many there were."""
    result = session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge(session: Session, before: datetime) -> int:
    """Delete sessions that ended, or reached their absolute end, before ``before``."""
    result = session.execute(
        delete(WebSessionRow)
        .where(or_(WebSessionRow.ended_at < before, WebSessionRow.expires_at < before))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live(session: Session, now: datetime, idle_timeout: timedelta) -> list[WebSessionRow]:
    """Sessions still live at ``now``, the most recent request first (the admin page)."""
    return list(
        session.scalars(
            select(WebSessionRow)
            .where(
                WebSessionRow.ended_at.is_(None),
                WebSessionRow.expires_at > now,
                WebSessionRow.last_seen_at > now - idle_timeout,
            )
            .order_by(WebSessionRow.last_seen_at.desc(), WebSessionRow.username)
        )
    )


def _end(row: WebSessionRow, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.ended_reason = reason


def _live(row: WebSessionRow) -> Live:
    return Live(
        token_hash=row.token_hash,
        username=row.username,
        csrf_secret=row.csrf_secret,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )
