"""Who is asking: users with argon2 password hashes, signed session cookies, CSRF tokens,
a login throttle, and (when configured) a trusted header from an authenticating proxy.

- Passwords: argon2id through argon2-cffi's ``PasswordHasher``; hashes are upgraded on
  login when the library's parameters change.
- Sessions: an itsdangerous-signed cookie (``cw_session``; HttpOnly, SameSite=Lax, Secure
  when ``public_base_url`` is https) holding the user name, a random nonce and an expiry on
  the same clock as everything else. The user is re-read on every request, so disabling a
  user ends their sessions at once.
- CSRF: every POST form carries ``HMAC(key, nonce)``; anonymous visitors get a session with
  a nonce too, so the login form is protected the same way. A new login gets a new nonce.
- Throttle: 5 failed logins per user name, and 20 per client address, in 15 minutes."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.store import audit
from custody_watch.store.schema import UserRow
from custody_watch.web.context import WebContext

ROLES = ("viewer", "inspector", "admin")
ACKERS = frozenset({"inspector", "admin"})
COOKIE = "cw_session"
SESSION_SALT = "custody-watch.session.v1"
CSRF_SALT = b"custody-watch.csrf.v1"
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    person_id: str | None = None
    via: str = "session"  # session | header | basic

    @property
    def can_ack(self) -> bool:
        return self.role in ACKERS

    @property
    def actor(self) -> str:
        """Who an acknowledgement is recorded as: the rota's person id when linked."""
        return self.person_id or self.username


@dataclass(frozen=True, slots=True)
class SessionData:
    username: str | None
    nonce: str
    expires: int


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


# Users in the database ------------------------------------------------------------------


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


# The throttle ---------------------------------------------------------------------------


class Throttle:
    """Failed logins per key (user name, client address) within a sliding window."""

    def __init__(self, window: timedelta = timedelta(minutes=15), max_keys: int = 10_000) -> None:
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str, limit: int, now: datetime) -> bool:
        with self._lock:
            recent = self._recent(key, now)
            return recent is not None and len(recent) >= limit

    def failed(self, key: str, now: datetime) -> None:
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._prune(now)
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def _prune(self, now: datetime) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= self.max_keys:  # still full: drop the oldest keys
            del self._failures[next(iter(self._failures))]


PER_USER_LIMIT = 5
PER_ADDRESS_LIMIT = 20


# Sessions, CSRF and the current user -----------------------------------------------------


class Auth:
    def __init__(self, web: WebContext) -> None:
        self.web = web
        self.throttle = Throttle()
        self._signer = URLSafeSerializer(web.signing_key, salt=SESSION_SALT)
        self._csrf_key = hmac.new(web.signing_key.encode(), CSRF_SALT, hashlib.sha256).digest()
        self._dummy_hash: str | None = None

    # -- sessions

    def read_session(self, request: Request) -> SessionData | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._signer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not {"u", "n", "e"} <= data.keys():
            return None
        if self.web.clock.now().timestamp() >= int(data["e"]):
            return None
        user = data["u"]
        return SessionData(str(user) if user else None, str(data["n"]), int(data["e"]))

    def new_session(self, username: str | None) -> SessionData:
        expires = self.web.clock.now() + SESSION_LIFETIME
        return SessionData(username, secrets.token_urlsafe(18), int(expires.timestamp()))

    def set_cookie(self, response: Response, data: SessionData) -> None:
        response.set_cookie(
            COOKIE,
            self._signer.dumps({"u": data.username, "n": data.nonce, "e": data.expires}),
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.web.secure_cookies,
            path="/",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="lax", secure=self.web.secure_cookies
        )

    # -- CSRF

    def csrf_for(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, request: Request, user: User | None) -> str:
        """The token for forms on this page (the session's, or the header user's)."""
        if user is not None and user.via == "header":
            return self.csrf_for(f"header:{user.username}")
        session = self.read_session(request)
        return self.csrf_for(session.nonce) if session else ""

    def csrf_ok(self, request: Request, user: User | None, token: str) -> bool:
        expected = self.csrf_token(request, user)
        return bool(expected) and hmac.compare_digest(expected, token)

    # -- who is asking

    def current_user(self, request: Request, *, allow_basic: bool = False) -> User | None:
        header = self.web.settings.web.trusted_user_header
        if header:
            named = request.headers.get(header, "").strip()
            if named:
                return self._header_user(named)
        if allow_basic and request.headers.get("authorization", "").lower().startswith("basic "):
            return self._basic_user(request)
        session = self.read_session(request)
        if session is None or session.username is None:
            return None
        with self.web.sessions.begin() as db:
            row = find_user(db, session.username)
            if row is None or row.disabled:
                return None
            return User(row.username, row.role, row.person_id)

    def _header_user(self, username: str) -> User | None:
        with self.web.sessions.begin() as db:
            row = find_user(db, username)
            if row is None:
                # The proxy vouches for the person; without a row here they may only look.
                return User(username, "viewer", None, via="header")
            if row.disabled:
                return None
            return User(row.username, row.role, row.person_id, via="header")

    def _basic_user(self, request: Request) -> User | None:
        try:
            decoded = base64.b64decode(request.headers["authorization"][6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        outcome = self.check_login(username, password, _client(request))
        if outcome is None:
            return None
        return User(outcome.username, outcome.role, outcome.person_id, via="basic")

    def check_login(self, username: str, password: str, client: str) -> User | None:
        """Verify a user name and password, throttled. Raises 429 when throttled."""
        now = self.web.clock.now()
        user_key, client_key = f"user:{username.lower()}", f"addr:{client}"
        if self.throttle.blocked(user_key, PER_USER_LIMIT, now) or self.throttle.blocked(
            client_key, PER_ADDRESS_LIMIT, now
        ):
            with self.web.sessions.begin() as db:
                audit.record(db, now, "login_throttled", actor=username[:64], detail=client)
            raise HTTPException(429, "too many failed logins; wait 15 minutes and try again")
        with self.web.sessions.begin() as db:
            row = find_user(db, username)
            if row is None or row.disabled:
                self._spend_time(password)
                ok = False
            else:
                ok = verify_password(row, password, self.web.password_hasher)
            if not ok:
                audit.record(db, now, "login_failed", actor=username[:64], detail=client)
                self.throttle.failed(user_key, now)
                self.throttle.failed(client_key, now)
                return None
            assert row is not None
            audit.record(db, now, "login", actor=row.username, detail=client)
            self.throttle.forget(user_key)
            return User(row.username, row.role, row.person_id)

    def _spend_time(self, password: str) -> None:
        """As long as a real check, so a timing cannot tell which user names exist."""
        ph = self.web.password_hasher
        if self._dummy_hash is None:
            self._dummy_hash = ph.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError):
            ph.verify(self._dummy_hash, password)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_address(request: Request) -> str:
    return _client(request)


def auth_of(request: Request) -> Auth:
    auth: Auth = request.app.state.auth
    return auth


# Dependencies ---------------------------------------------------------------------------


def page_user(request: Request) -> User:
    """For pages: the user, or a redirect to the login page (which returns here)."""
    user = auth_of(request).current_user(request)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return user


def api_user(request: Request) -> User:
    """For the JSON API: the user (session, trusted header or HTTP Basic), or 401."""
    user = auth_of(request).current_user(request, allow_basic=True)
    if user is None:
        raise HTTPException(
            401, "log in first", headers={"WWW-Authenticate": 'Basic realm="custody-watch"'}
        )
    return user


def safe_next(path: str | None, default: str = "/") -> str:
    """Only a path on this site: never ``//host`` or ``https://...`` (an open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path
