"""Web users in the store: who may be made, how a password is kept and checked, and what a
new password or disabling does to the user's sessions. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.store import web_sessions
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AuditRow
from custody_watch.store.users import (
    check_new_user,
    create_user,
    find_user,
    set_disabled,
    set_password,
    verify_password,
)

T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
# The cheapest argon2 the library allows: these tests are about the store, not the hash.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"


def store(engine: Engine) -> sessionmaker[Session]:
    upgrade(engine)
    return make_sessionmaker(engine)


def test_a_user_name_with_a_space_or_an_unknown_role_or_a_short_password_is_refused() -> None:
    assert check_new_user("alice", "inspector", PASSWORD) is None
    assert check_new_user("alice smith", "inspector", PASSWORD) is not None
    assert check_new_user("alice", "sergeant", PASSWORD) == "role: one of viewer, inspector, admin"
    assert check_new_user("alice", "inspector", "short") == "password: at least 10 characters"


def test_a_user_is_stored_with_a_hash_that_checks_and_the_addition_is_audited(
    fresh_engine: Engine,
) -> None:
    sessions = store(fresh_engine)
    with sessions.begin() as session:
        create_user(session, "alice", PASSWORD, "inspector", "insp-a", T0, FAST)
    with sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        assert PASSWORD not in row.password_hash
        assert verify_password(row, PASSWORD, FAST)
        assert not verify_password(row, PASSWORD + "!", FAST)
        events = session.scalars(select(AuditRow.event)).all()
    assert events == ["user_added"]


def test_the_same_user_name_twice_is_refused(fresh_engine: Engine) -> None:
    sessions = store(fresh_engine)
    with sessions.begin() as session:
        create_user(session, "alice", PASSWORD, "viewer", None, T0, FAST)
    with sessions.begin() as session, pytest.raises(ValueError, match="already exists"):
        create_user(session, "alice", PASSWORD, "viewer", None, T0, FAST)


def test_a_new_password_and_disabling_each_end_every_session_of_the_user(
    fresh_engine: Engine,
) -> None:
    sessions = store(fresh_engine)
    lifetime = timedelta(hours=12)
    with sessions.begin() as session:
        row = create_user(session, "alice", PASSWORD, "admin", None, T0, FAST)
        for _ in range(2):
            web_sessions.create(session, "alice", T0, lifetime, "192.0.2.1")
    with sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        assert set_password(session, row, "another long one", T0, ph=FAST) == 2
        web_sessions.create(session, "alice", T0, lifetime, "192.0.2.1")
    with sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        assert verify_password(row, "another long one", FAST)
        assert set_disabled(session, row, True, T0) == 1
        assert row.disabled
