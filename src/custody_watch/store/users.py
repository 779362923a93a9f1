"""Users of the web side in the database: who they are, their argon2id password hashes, and
the changes an admin makes (add, new password, disable, end sessions), each audited.

Used by the web's login (``web.auth``) and by ``custody-watch user`` alike, so both check a
new user and a password by the same rules."""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.store import audit, web_sessions
from custody_watch.store.schema import UserRow

ROLES = ("viewer", "inspector", "admin")
# The roles that may acknowledge an alert.
ACKERS = frozenset({"inspector", "admin"})
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def hasher() -> PasswordHasher:
    return PasswordHasher()


def check_new_user(username: str, role: str, password: str) -> str | None:
    """Why these cannot make a user, or None."""
    if not _USERNAME.match(username):
        return "user name: letters, digits and . _ @ - only, at most 64, starting alphanumeric"
    if role not in ROLES:
        return f"role: one of {', '.join(ROLES)}"
    return check_password(password)


def check_password(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters"
    if password != password.strip():
        return "password: no spaces at the start or end"
    return None


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    person_id: str | None,
    now: datetime,
    ph: PasswordHasher | None = None,
) -> UserRow:
    problem = check_new_user(username, role, password)
    if problem:
        raise ValueError(problem)
    if find_user(session, username) is not None:
        raise ValueError(f"user {username!r} already exists")
    row = UserRow(
        username=username,
        password_hash=(ph or hasher()).hash(password),
        role=role,
        person_id=person_id,
        created_at=now,
        disabled=False,
    )
    session.add(row)
    audit.record(session, now, "user_added", detail=f"{username} ({role}, person {person_id})")
    return row


def find_user(session: Session, username: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.username == username))


def verify_password(row: UserRow, password: str, ph: PasswordHasher | None = None) -> bool:
    """Check, and upgrade the stored hash when argon2's parameters have moved on."""
    ph = ph or hasher()
    try:
        ph.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ph.check_needs_rehash(row.password_hash):
        row.password_hash = ph.hash(password)
    return True


def set_password(
    session: Session,
    row: UserRow,
    password: str,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
    ph: PasswordHasher | None = None,
) -> int:
    """A new password, and every session of the user ended: whoever knew the old one is
    logged out. How many sessions were ended."""
    problem = check_password(password)
    if problem:
        raise ValueError(problem)
    row.password_hash = (ph or hasher()).hash(password)
    ended = web_sessions.end_for_user(session, row.username, now, web_sessions.PASSWORD_CHANGED)
    audit.record(
        session,
        now,
        "user_password_set",
        actor=actor,
        detail=f"{row.username}; {ended} sessions ended",
    )
    return ended


def set_disabled(
    session: Session, row: UserRow, disabled: bool, now: datetime, *, actor: str = audit.SYSTEM
) -> int:
    """Disable (and end every session of) or enable a user; how many sessions ended."""
    row.disabled = disabled
    ended = 0
    if disabled:
        ended = web_sessions.end_for_user(session, row.username, now, web_sessions.USER_DISABLED)
    audit.record(
        session,
        now,
        "user_disabled" if disabled else "user_enabled",
        actor=actor,
        detail=f"{row.username}; {ended} sessions ended" if disabled else row.username,
    )
    return ended


def end_sessions(
    session: Session, username: str | None, now: datetime, *, actor: str = audit.SYSTEM
) -> int:
    """An admin's "end sessions": one user's (``username``) or everyone's (None)."""
    if username is None:
        ended = web_sessions.end_all(session, now, web_sessions.ENDED_BY_ADMIN)
    else:
        ended = web_sessions.end_for_user(session, username, now, web_sessions.ENDED_BY_ADMIN)
    audit.record(
        session,
        now,
        "sessions_ended",
        actor=actor,
        detail=f"{username or 'all users'}: {ended} sessions ended",
    )
    return ended
