"""Web sessions in the store: made, found and moved on, ended one, per user or all, and
ended by idleness and lifetime at the instant they pass. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.store import web_sessions
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import WebSessionRow

T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
IDLE = timedelta(hours=1)
LIFETIME = timedelta(hours=12)
M = timedelta(minutes=1)


def store(engine: Engine) -> sessionmaker[Session]:
    upgrade(engine)
    return make_sessionmaker(engine)


def made(sessions: sessionmaker[Session], username: str = "alice") -> str:
    with sessions.begin() as session:
        token, live = web_sessions.create(session, username, T0, LIFETIME, "192.0.2.1")
        assert live.expires_at == T0 + LIFETIME
    return token


def touch(sessions: sessionmaker[Session], token: str, at: datetime) -> web_sessions.Live | None:
    with sessions.begin() as session:
        return web_sessions.touch(session, token, at, IDLE)


def test_a_session_is_found_by_its_token_and_only_its_hash_is_kept(fresh_engine: Engine) -> None:
    sessions = store(fresh_engine)
    token = made(sessions)
    live = touch(sessions, token, T0 + M)
    assert live is not None and live.username == "alice" and len(live.csrf_secret) == 64
    with sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.last_seen_at == T0 + M and row.address == "192.0.2.1"
    assert touch(sessions, token + "x", T0 + M) is None
    assert touch(sessions, "", T0 + M) is None


def test_idle_for_the_timeout_ends_it_but_each_request_moves_the_deadline(
    fresh_engine: Engine,
) -> None:
    sessions = store(fresh_engine)
    token = made(sessions)
    assert touch(sessions, token, T0 + 59 * M) is not None
    assert touch(sessions, token, T0 + 118 * M) is not None
    assert touch(sessions, token, T0 + 178 * M) is None  # exactly an hour idle
    assert touch(sessions, token, T0 + 179 * M) is None  # and stays ended
    with sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.ended_reason == "idle" and row.ended_at == T0 + 178 * M


def test_the_lifetime_ends_it_however_busy(fresh_engine: Engine) -> None:
    sessions = store(fresh_engine)
    token = made(sessions)
    at = T0
    while at + 30 * M < T0 + LIFETIME:
        at += 30 * M
        assert touch(sessions, token, at) is not None
    assert touch(sessions, token, T0 + LIFETIME) is None
    with sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.ended_reason == "expired"


def test_ending_one_a_users_or_all(fresh_engine: Engine) -> None:
    sessions = store(fresh_engine)
    a1, a2, b1 = made(sessions), made(sessions), made(sessions, "bob")
    later = T0 + M
    with sessions.begin() as session:
        live = web_sessions.touch(session, a1, later, IDLE)
        assert live is not None
        assert web_sessions.end(session, live.token_hash, later, web_sessions.LOGOUT)
        assert not web_sessions.end(session, live.token_hash, later, web_sessions.LOGOUT)
    assert touch(sessions, a1, later) is None
    assert touch(sessions, a2, later) is not None
    with sessions.begin() as session:
        assert [r.username for r in web_sessions.live(session, later, IDLE)] == ["alice", "bob"]
        assert web_sessions.end_for_user(session, "alice", later, "password_changed") == 1
    assert touch(sessions, a2, later) is None
    assert touch(sessions, b1, later) is not None
    with sessions.begin() as session:
        assert web_sessions.end_all(session, later, web_sessions.ENDED_BY_ADMIN) == 1
        assert web_sessions.live(session, later, IDLE) == []
    assert touch(sessions, b1, later) is None
    with sessions() as session:
        reasons = sorted(r.ended_reason or "" for r in session.scalars(select(WebSessionRow)))
    assert reasons == ["ended_by_admin", "logout", "password_changed"]


def test_the_live_list_leaves_out_idle_and_expired_sessions(fresh_engine: Engine) -> None:
    sessions = store(fresh_engine)
    made(sessions)
    with sessions() as session:
        assert len(web_sessions.live(session, T0 + 59 * M, IDLE)) == 1
        assert web_sessions.live(session, T0 + 60 * M, IDLE) == []


def test_sessions_dead_for_a_week_are_deleted_when_a_new_one_is_made(
    fresh_engine: Engine,
) -> None:
    sessions = store(fresh_engine)
    ended = made(sessions)
    made(sessions, "bob")  # never ended: past its lifetime
    with sessions.begin() as session:
        found = web_sessions.touch(session, ended, T0 + M, IDLE)
        assert found is not None
        web_sessions.end(session, found.token_hash, T0 + M, web_sessions.LOGOUT)
    a_week_on = T0 + LIFETIME + web_sessions.KEEP_DEAD + M
    with sessions.begin() as session:
        web_sessions.create(session, "dave", a_week_on, LIFETIME)
    with sessions() as session:
        names = sorted(r.username for r in session.scalars(select(WebSessionRow)))
    assert names == ["dave"]  # alice's ended a week ago, bob's reached its end then
    with sessions.begin() as session:
        web_sessions.create(session, "erin", a_week_on + M, LIFETIME)
    with sessions() as session:
        assert len(session.scalars(select(WebSessionRow)).all()) == 2  # the live are kept


def test_a_burst_of_requests_writes_the_last_request_once(fresh_engine: Engine) -> None:
    sessions = store(fresh_engine)
    token = made(sessions)
    for seconds in (1, 10, 29):
        touch(sessions, token, T0 + timedelta(seconds=seconds))
    with sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.last_seen_at == T0
    touch(sessions, token, T0 + timedelta(seconds=30))
    with sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.last_seen_at == T0 + timedelta(seconds=30)
