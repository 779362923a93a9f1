"""Sessions live on the server: a cookie is dead once its session ends, whatever ended it
(logging out, a password change, disabling the user, an admin, idleness, its lifetime), and
its CSRF token with it. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from custody_watch.store.schema import WebSessionRow
from custody_watch.store.users import find_user, set_disabled, set_password
from fakes.twilio_api import FakeTwilio

from .support import FAST_HASHER, Site, csrf_of, make_site

M = timedelta(minutes=1)
H = timedelta(hours=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_site(request: pytest.FixtureRequest, tmp_path: Path, twilio: FakeTwilio) -> Iterator[Site]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_schema_url")
    made = make_site(tmp_path, twilio, database_url=url)
    made.add_user("alice", "inspector", "insp-a")
    made.add_user("root", "admin")
    yield made
    made.client.close()
    made.ctx.engine.dispose()


def logged_in(site: Site, username: str = "alice") -> tuple[TestClient, str]:
    """A browser of its own, logged in, and the CSRF token on its board."""
    client = TestClient(site.app)
    assert site.login(username, client=client).status_code == 303
    board = client.get("/")
    assert board.status_code == 200
    return client, csrf_of(board.text)


def is_dead(site: Site, cookie: str, csrf: str) -> bool:
    """The old cookie reads nothing and its CSRF token acknowledges nothing."""
    with TestClient(site.app, cookies={"cw_session": cookie}) as old:
        alerts = old.get("/alerts", follow_redirects=False)
        ack = old.post(
            f"/alerts/{site.alert().id}/ack", data={"csrf": csrf}, follow_redirects=False
        )
        api = old.get("/api/alerts")
    assert site.alert().state == "open"
    return alerts.status_code == 303 and ack.status_code == 303 and api.status_code == 401


def cookie_of(client: TestClient) -> str:
    value = client.cookies.get("cw_session")
    assert value
    return value


def test_a_cookie_is_dead_after_logout(any_site: Site) -> None:
    client, csrf = logged_in(any_site)
    cookie = cookie_of(client)
    assert not is_dead(any_site, cookie, "not the token")  # alive before
    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert is_dead(any_site, cookie, csrf)
    with any_site.ctx.sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.ended_reason == "logout"


def test_a_cookie_is_dead_after_a_password_change(any_site: Site) -> None:
    client, csrf = logged_in(any_site)
    with any_site.ctx.sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        assert (
            set_password(session, row, "a new long password", any_site.clock.now(), ph=FAST_HASHER)
            == 1
        )
    assert is_dead(any_site, cookie_of(client), csrf)


def test_a_cookie_is_dead_after_disabling_even_once_enabled_again(any_site: Site) -> None:
    client, csrf = logged_in(any_site)
    now = any_site.clock.now()
    with any_site.ctx.sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        set_disabled(session, row, True, now)
        set_disabled(session, row, False, now)
    assert is_dead(any_site, cookie_of(client), csrf)


def test_a_session_ends_after_an_hour_without_a_request(any_site: Site) -> None:
    client, csrf = logged_in(any_site)
    cookie = cookie_of(client)
    for _ in range(3):  # each request moves the idle deadline on
        any_site.clock.advance(50 * M)
        assert client.get("/", follow_redirects=False).status_code == 200
    any_site.clock.advance(H)
    assert is_dead(any_site, cookie, csrf)
    with any_site.ctx.sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.ended_reason == "idle"


def test_a_session_ends_twelve_hours_after_the_login_however_busy(any_site: Site) -> None:
    client, csrf = logged_in(any_site)
    cookie = cookie_of(client)
    for _ in range(14):  # a request every 50 minutes: 11 h 40 min
        any_site.clock.advance(50 * M)
        assert client.get("/", follow_redirects=False).status_code == 200
    any_site.clock.advance(20 * M)
    assert is_dead(any_site, cookie, csrf)
    with any_site.ctx.sessions() as session:
        row = session.scalar(select(WebSessionRow))
        assert row is not None and row.ended_reason == "expired"


def test_the_timeouts_come_from_the_config(tmp_path: Path, twilio: FakeTwilio) -> None:
    site = make_site(
        tmp_path, twilio, extra_web='session_idle_timeout = "5m"\nsession_lifetime = "30m"'
    )
    site.add_user("alice", "inspector")
    client, csrf = logged_in(site)
    site.clock.advance(6 * M)
    assert is_dead(site, cookie_of(client), csrf)
    site.ctx.engine.dispose()


def test_an_admin_ends_one_users_sessions_then_everyones(any_site: Site) -> None:
    alice, alice_csrf = logged_in(any_site)
    admin, admin_csrf = logged_in(any_site, "root")
    assert 'href="/admin/sessions"' in admin.get("/").text  # in an admin's menu
    page = admin.get("/admin/sessions")
    assert page.status_code == 200
    assert "alice" in page.text and "root" in page.text
    done = admin.post(
        "/admin/sessions/end",
        data={"csrf": admin_csrf, "username": "alice"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/sessions?ended=1"
    assert is_dead(any_site, cookie_of(alice), alice_csrf)
    assert admin.get("/admin/sessions").status_code == 200  # the admin's own goes on
    admin.post("/admin/sessions/end", data={"csrf": admin_csrf}, follow_redirects=False)
    assert is_dead(any_site, cookie_of(admin), admin_csrf)
    assert [a.detail for a in any_site.audit("sessions_ended")] == [
        "alice: 1 sessions ended",
        "all users: 1 sessions ended",
    ]


def test_only_an_admin_sees_or_ends_sessions(any_site: Site) -> None:
    alice, csrf = logged_in(any_site)
    assert 'href="/admin/sessions"' not in alice.get("/").text
    assert alice.get("/admin/sessions").status_code == 403
    refused = alice.post("/admin/sessions/end", data={"csrf": csrf})
    assert refused.status_code == 403
    assert alice.get("/", follow_redirects=False).status_code == 200
    # An admin's form without its token ends nothing.
    admin, _ = logged_in(any_site, "root")
    assert admin.post("/admin/sessions/end", data={"csrf": "forged"}).status_code == 403
    assert alice.get("/", follow_redirects=False).status_code == 200


def test_the_cookie_holds_a_token_whose_hash_alone_is_stored(any_site: Site) -> None:
    client, csrf = logged_in(any_site)
    cookie = cookie_of(client)
    with any_site.ctx.sessions() as session:
        rows = session.scalars(select(WebSessionRow)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(cookie.encode()).hexdigest()]
    assert cookie not in (rows[0].csrf_secret, rows[0].token_hash)
    assert csrf not in (rows[0].csrf_secret, rows[0].token_hash)
    assert rows[0].address == "testclient"


def test_a_new_login_gets_a_new_session_and_token_and_the_old_ones_are_refused(
    any_site: Site,
) -> None:
    client, csrf = logged_in(any_site)
    first = cookie_of(client)
    client.post("/logout", data={"csrf": csrf})
    assert any_site.login("alice", client=client).status_code == 303
    assert cookie_of(client) != first
    ack: httpx.Response = client.post(f"/alerts/{any_site.alert().id}/ack", data={"csrf": csrf})
    assert ack.status_code == 403 and any_site.alert().state == "open"
