"""Who is asking: users with argon2 password hashes, server-side sessions, CSRF tokens, a
login throttle, and (when configured) a trusted header from an authenticating proxy.

- Passwords: argon2id through argon2-cffi's ``PasswordHasher``; hashes are upgraded on
  login when the library's parameters change.
- Sessions: stored server-side (``store.web_sessions``); the ``cw_session`` cookie (HttpOnly,
  SameSite=Lax, Secure when ``public_base_url`` is https) holds a random token whose SHA-256
  is the row's key. Logging out, a password change, disabling the user and an admin's "end
  sessions" end it at once; so do ``[web] session_idle_timeout`` and ``session_lifetime``.
  The user is re-read on every request too.
- CSRF: every POST form carries ``HMAC(key, session's csrf_secret)``, so a token dies with
  its session. Before a login there is no session: the login form is protected by a nonce
  in a separate signed cookie (``cw_login``), which the login replaces.
- Trusted header: honoured only on a connection from ``[web] trusted_proxies``, and only for
  an enabled user of this table. Such a user gets a server-side session too (its cookie set
  on the response), so its CSRF token is per session, not a constant.
- Throttle: failed logins slow down the (user name, address) pair that failed, and a global
  cap slows every pair that has failed; a pair that has not failed is never held back, so a
  stranger's wrong passwords cannot lock the real user out."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2.exceptions import VerificationError
from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custody_watch.store import audit, web_sessions
from custody_watch.store.users import ACKERS, find_user, verify_password
from custody_watch.web.app_context import WebContext

COOKIE = "cw_session"
LOGIN_COOKIE = "cw_login"
LOGIN_SALT = "custody-watch.login-form.v2"
CSRF_SALT = b"custody-watch.csrf.v2"
# The login form's own cookie: long enough to type a password, short enough to be useless.
LOGIN_FORM_LIFETIME = timedelta(hours=1)
# request.state keys: the resolved user and session, and a session cookie to set.
_RESOLVED = "cw_resolved"
_NEW_COOKIE = "cw_new_session_cookie"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """Who an acknowledgement is recorded as: the rota's person id when linked."""
        return self.person_id or self.username


@dataclass(frozen=True, slots=True)
class LoginForm:
    """The login form's pre-session: a nonce its CSRF token is made from, and its end."""

    nonce: str
    expires: int


@dataclass(frozen=True, slots=True)
class _Resolved:
    user: User | None
    live: web_sessions.Live | None


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


# The throttle ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Failures:
    count: int
    last: datetime


class Throttle:
    """Failed logins slow down the (user name, address) pair that failed them.

    After ``free`` failures a pair waits ``first_delay``, doubling with each further failure
    up to ``max_delay``; a pair's record is forgotten ``forget_after`` its last failure, or
    at its next success. When more than ``global_limit`` logins failed within
    ``global_window`` (across every pair: many addresses trying many names), every pair
    that has failed before waits for the window to have room again.

    A pair that has not failed is never held back: a stranger guessing from elsewhere
    slows only themselves. Memory is bounded by ``max_keys`` (the least recently failed
    pairs are dropped first; the global cap still holds whoever floods the table).

    Callers are answered 429 with Retry-After rather than made to wait: a sleeping request
    would hold one of the server's worker threads, and a few hundred such requests would
    stop the board for everyone."""

    def __init__(
        self,
        *,
        free: int = 2,
        first_delay: timedelta = timedelta(seconds=1),
        max_delay: timedelta = timedelta(seconds=30),
        forget_after: timedelta = timedelta(minutes=15),
        global_limit: int = 100,
        global_window: timedelta = timedelta(minutes=1),
        max_keys: int = 10_000,
    ) -> None:
        self.free = free
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.global_window = global_window
        self.max_keys = max_keys
        self._pairs: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._recent: deque[datetime] = deque(maxlen=global_limit)
        self._lock = threading.Lock()

    def delay_after(self, failures: int) -> timedelta:
        """How long a pair waits after this many failures in a row."""
        if failures <= self.free:
            return timedelta(0)
        steps = min(failures - self.free - 1, 30)  # 2**30 s is past any cap
        delay: timedelta = self.first_delay * (1 << steps)
        return min(delay, self.max_delay)

    def retry_after(self, username: str, address: str, now: datetime) -> float:
        """Seconds before this pair may try again; 0 when it may try now."""
        key = _pair(username, address)
        with self._lock:
            record = self._current(key, now)
            if record is None:
                return 0.0
            wait = record.last + self.delay_after(record.count) - now
            recent = self._recent
            if len(recent) == recent.maxlen and now - recent[0] < self.global_window:
                wait = max(wait, recent[0] + self.global_window - now)
            return max(0.0, wait.total_seconds())

    def failed(self, username: str, address: str, now: datetime) -> None:
        key = _pair(username, address)
        with self._lock:
            record = self._current(key, now)
            if record is None:
                while len(self._pairs) >= self.max_keys:
                    self._pairs.popitem(last=False)
                self._pairs[key] = _Failures(1, now)
            else:
                record.count += 1
                record.last = now
                self._pairs.move_to_end(key)
            self._recent.append(now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._pairs.pop(_pair(username, address), None)

    def __len__(self) -> int:
        return len(self._pairs)

    def _current(self, key: tuple[str, str], now: datetime) -> _Failures | None:
        record = self._pairs.get(key)
        if record is not None and now - record.last >= self.forget_after:
            del self._pairs[key]
            return None
        return record


def _pair(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower()[:64], address[:64]


# Addresses ------------------------------------------------------------------------------


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def in_networks(address: str, networks: Iterable[Network]) -> bool:
    ip = _ip(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 from a dual-stack socket is 10.0.0.1
    return any(ip in network for network in networks)


# Sessions, CSRF and the current user -----------------------------------------------------


class Auth:
    def __init__(self, web: WebContext) -> None:
        self.web = web
        self.throttle = Throttle()
        self.proxies = parse_networks(web.settings.web.trusted_proxies)
        self._signer = URLSafeSerializer(web.signing_key, salt=LOGIN_SALT)
        self._csrf_key = hmac.new(web.signing_key.encode(), CSRF_SALT, hashlib.sha256).digest()
        self._dummy_hash: str | None = None

    @property
    def idle_timeout(self) -> timedelta:
        return self.web.settings.web.session_idle_timeout

    @property
    def lifetime(self) -> timedelta:
        return self.web.settings.web.session_lifetime

    # -- the login form's pre-session

    def read_login_form(self, request: Request) -> LoginForm | None:
        raw = request.cookies.get(LOGIN_COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._signer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not {"n", "e"} <= data.keys():
            return None
        if self.web.clock.now().timestamp() >= int(data["e"]):
            return None
        return LoginForm(str(data["n"]), int(data["e"]))

    def new_login_form(self) -> LoginForm:
        expires = self.web.clock.now() + LOGIN_FORM_LIFETIME
        return LoginForm(secrets.token_urlsafe(18), int(expires.timestamp()))

    def set_login_cookie(self, response: Response, form: LoginForm) -> None:
        response.set_cookie(
            LOGIN_COOKIE,
            self._signer.dumps({"n": form.nonce, "e": form.expires}),
            max_age=int(LOGIN_FORM_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.web.secure_cookies,
            path="/",
        )

    def login_csrf(self, form: LoginForm) -> str:
        return hmac.new(self._csrf_key, f"login:{form.nonce}".encode(), hashlib.sha256).hexdigest()

    # -- server-side sessions

    def start_session(self, request: Request, username: str) -> str:
        """A new session for a user who has just proved who they are; its cookie value."""
        now = self.web.clock.now()
        with self.web.sessions.begin() as db:
            token, _ = web_sessions.create(db, username, now, self.lifetime, _client(request))
        return token

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self.lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.web.secure_cookies,
            path="/",
        )
        response.delete_cookie(
            LOGIN_COOKIE, path="/", httponly=True, samesite="lax", secure=self.web.secure_cookies
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="lax", secure=self.web.secure_cookies
        )

    def end_session(self, request: Request, reason: str) -> bool:
        """End the session this request came with (logging out)."""
        resolved = self._resolve(request)
        if resolved.live is None:
            return False
        with self.web.sessions.begin() as db:
            ended = web_sessions.end(db, resolved.live.token_hash, self.web.clock.now(), reason)
        setattr(request.state, _RESOLVED, _Resolved(None, None))
        return ended

    # -- CSRF

    def csrf_for(self, live: web_sessions.Live) -> str:
        return hmac.new(
            self._csrf_key, f"session:{live.csrf_secret}".encode(), hashlib.sha256
        ).hexdigest()

    def csrf_token(self, request: Request, user: User | None) -> str:
        """The token for forms on this page: its session's ("" without one)."""
        resolved = self._resolve(request)
        if user is None or resolved.live is None or resolved.user != user:
            return ""
        return self.csrf_for(resolved.live)

    def csrf_ok(self, request: Request, user: User | None, token: str) -> bool:
        expected = self.csrf_token(request, user)
        return bool(expected) and hmac.compare_digest(expected.encode(), token.encode())

    # -- who is asking

    def current_user(self, request: Request, *, allow_basic: bool = False) -> User | None:
        user = self._resolve(request).user
        basic = request.headers.get("authorization", "").lower().startswith("basic ")
        if user is None and allow_basic and basic:
            return self._basic_user(request)
        return user

    def trusted_peer(self, request: Request) -> bool:
        """The connection comes from one of ``[web] trusted_proxies``."""
        return bool(self.proxies) and in_networks(_peer(request), self.proxies)

    def client_address(self, request: Request) -> str:
        """The client's address: the connection's, or behind a trusted proxy, the nearest
        address in X-Forwarded-For that is not itself a trusted proxy."""
        peer = _peer(request)
        if not self.trusted_peer(request):
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed(hops):
            if _ip(hop) is not None and not in_networks(hop, self.proxies):
                return hop.strip("[]")
        return peer

    def _resolve(self, request: Request) -> _Resolved:
        """The user and session of this request, found once per request."""
        cached = getattr(request.state, _RESOLVED, None)
        if isinstance(cached, _Resolved):
            return cached
        resolved = self._find(request)
        setattr(request.state, _RESOLVED, resolved)
        return resolved

    def _find(self, request: Request) -> _Resolved:
        now = self.web.clock.now()
        header = self.web.settings.web.trusted_user_header
        named = request.headers.get(header, "").strip() if header else ""
        # From anywhere but a trusted proxy the header is a claim by the client itself.
        if named and self.trusted_peer(request):
            return self._header_session(request, named, now)
        token = request.cookies.get(COOKIE, "")
        if not token:
            return _Resolved(None, None)
        with self.web.sessions.begin() as db:
            live = web_sessions.touch(db, token, now, self.idle_timeout)
            if live is None:
                return _Resolved(None, None)
            row = find_user(db, live.username)
            if row is None or row.disabled:
                return _Resolved(None, None)
            return _Resolved(User(row.username, row.role, row.person_id), live)

    def _header_session(self, request: Request, named: str, now: datetime) -> _Resolved:
        """A user the proxy vouches for: one of ours, enabled, with a session of their own
        (the cookie's when it is theirs, else a new one whose cookie goes on the response)."""
        token = request.cookies.get(COOKIE, "")
        with self.web.sessions.begin() as db:
            row = find_user(db, named)
            if row is None or row.disabled:
                # No user is made from a header: the proxy's say-so is not enough here.
                return _Resolved(None, None)
            user = User(row.username, row.role, row.person_id, via="header")
            live = web_sessions.touch(db, token, now, self.idle_timeout) if token else None
            if live is None or live.username != row.username:
                token, live = web_sessions.create(
                    db, row.username, now, self.lifetime, self.client_address(request)
                )
                setattr(request.state, _NEW_COOKIE, self._cookie_header(token))
            return _Resolved(user, live)

    def _cookie_header(self, token: str) -> bytes:
        carrier = Response()
        self.set_session_cookie(carrier, token)
        return carrier.headers["set-cookie"].encode("latin-1")

    def _basic_user(self, request: Request) -> User | None:
        try:
            decoded = base64.b64decode(request.headers["authorization"][6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        outcome = self.check_login(username, password, self.client_address(request))
        if outcome is None:
            return None
        return User(outcome.username, outcome.role, outcome.person_id, via="basic")

    def check_login(self, username: str, password: str, client: str) -> User | None:
        """Verify a user name and password, throttled. Raises 429 (with Retry-After) when
        this user name and address must wait."""
        now = self.web.clock.now()
        wait = self.throttle.retry_after(username, client, now)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            with self.web.sessions.begin() as db:
                audit.record(db, now, "login_throttled", actor=username[:64], detail=client)
            raise HTTPException(
                429,
                f"too many failed logins; wait {seconds} seconds and try again",
                headers={"Retry-After": str(seconds)},
            )
        with self.web.sessions.begin() as db:
            row = find_user(db, username)
            if row is None or row.disabled:
                self._spend_time(password)
                ok = False
            else:
                ok = verify_password(row, password, self.web.password_hasher)
            if not ok:
                audit.record(db, now, "login_failed", actor=username[:64], detail=client)
                self.throttle.failed(username, client, now)
                return None
            assert row is not None
            audit.record(db, now, "login", actor=row.username, detail=client)
            self.throttle.succeeded(username, client)
            return User(row.username, row.role, row.person_id)

    def _spend_time(self, password: str) -> None:
        """As long as a real check, so a timing cannot tell which user names exist."""
        ph = self.web.password_hasher
        if self._dummy_hash is None:
            self._dummy_hash = ph.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError):
            ph.verify(self._dummy_hash, password)


class SessionCookies:
    """Puts on the response the cookie of a session made while answering it (a trusted
    header's user): pages return their own responses, which a dependency cannot reach."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                cookie = state.get(_NEW_COOKIE)
                if isinstance(cookie, bytes):
                    message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _client(request: Request) -> str:
    return auth_of(request).client_address(request)


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


def admin_user(request: Request) -> User:
    """For admin pages: an admin, a redirect to log in, or 403."""
    user = page_user(request)
    if not user.is_admin:
        raise HTTPException(403, "only admins may see this page")
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
