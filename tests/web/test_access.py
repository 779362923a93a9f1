"""Who may see what: a login everywhere but the open endpoints, CSRF on every form, the
login throttle, session cookies, the trusted header, and security headers."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from fakes.twilio_api import FakeTwilio

from .support import PASSWORD, Site, csrf_of, make_site

# Open by design (shared/spec/cli.md, "HTTP"), plus the login page and static CSS/JS.
OPEN = {
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/twilio/inbound"),
    ("POST", "/twilio/status"),
    ("GET", "/ack/{token}"),
    ("POST", "/ack/{token}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
}


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI >= 0.16x keeps included routers whole instead of copying their routes.
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def routes(site: Site) -> list[tuple[str, str]]:
    """Every (method, path) the app answers (no include prefixes are used)."""
    return [
        (method, route.path)
        for route in api_routes(site.app.router.routes)
        for method in sorted(route.methods or ())
    ]


def concrete(path: str) -> str:
    return (
        path.replace("{alert_id}", "1").replace("{custody_ref:path}", "C-1").replace("{token}", "x")
    )


def test_every_other_route_needs_a_login(site: Site) -> None:
    closed = [(m, p) for m, p in routes(site) if (m, p) not in OPEN]
    assert ("GET", "/") in closed and ("GET", "/api/alerts") in closed
    assert ("GET", "/openapi.json") in closed
    for method, path in closed:
        response = site.client.request(method, concrete(path), follow_redirects=False)
        if path == "/openapi.json" or (path.startswith("/api/") and path != "/api/docs"):
            assert response.status_code == 401, (method, path)
            assert "Basic" in response.headers["www-authenticate"]
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next=")
    # Nothing was acknowledged by an anonymous POST.
    assert site.alert().state == "open"


def test_the_open_endpoints_answer_without_a_login(site: Site) -> None:
    assert site.client.get("/healthz").status_code == 200
    assert site.client.get("/metrics").status_code == 200
    assert site.client.get("/login").status_code == 200
    assert site.client.get("/static/app.css").status_code == 200


def test_login_then_the_board_then_logout(site: Site) -> None:
    first = site.client.get("/", follow_redirects=False)
    assert first.headers["location"] == "/login?next=/"
    response = site.login("alice")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    board = site.client.get("/")
    assert board.status_code == 200 and "C-1" in board.text
    logout = site.client.post("/logout", data={"csrf": csrf_of(board.text)}, follow_redirects=False)
    assert logout.status_code == 303
    assert site.client.get("/", follow_redirects=False).status_code == 303
    assert [a.event for a in site.audit() if a.event in ("login", "logout")] == ["login", "logout"]


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(site: Site) -> None:
    page = site.client.get("/login?next=/quarantine")
    data = {"username": "alice", "password": PASSWORD, "csrf": csrf_of(page.text)}
    response = site.client.post(
        "/login", data={**data, "next": "/quarantine"}, follow_redirects=False
    )
    assert response.headers["location"] == "/quarantine"
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        with TestClient(site.app) as other:
            page = other.get("/login")
            response = other.post(
                "/login",
                data={**data, "csrf": csrf_of(page.text), "next": evil},
                follow_redirects=False,
            )
            assert response.headers["location"] == "/"


def test_wrong_password_and_unknown_user_look_the_same(site: Site) -> None:
    wrong = site.login("alice", "not the password")
    unknown = site.login("mallory", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong user name or password" in wrong.text
    assert len(site.audit("login_failed")) == 2


def test_logins_are_throttled(site: Site) -> None:
    for _ in range(5):
        assert site.login("alice", "guess-guess-guess").status_code == 401
    throttled = site.login("alice")  # even the right password, for now
    assert throttled.status_code == 429
    assert "too many failed logins" in throttled.text
    assert site.audit("login_throttled")


def test_login_form_needs_its_csrf_token(site: Site) -> None:
    site.client.get("/login")
    response = site.client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_acknowledge_form_needs_its_csrf_token(site: Site) -> None:
    site.login("alice")
    alert = site.alert()
    for token in ("", "0" * 64):
        response = site.client.post(f"/alerts/{alert.id}/ack", data={"csrf": token})
        assert response.status_code == 403
    assert site.alert().state == "open"
    # Another session's token does not do either.
    with TestClient(site.app) as other:
        site.login("alice", client=other)
        foreign = csrf_of(other.get("/").text)
    response = site.client.post(f"/alerts/{alert.id}/ack", data={"csrf": foreign})
    assert response.status_code == 403
    assert site.alert().state == "open"


def test_viewers_cannot_acknowledge(site: Site) -> None:
    site.login("victor")
    board = site.client.get("/")
    assert "C-1" in board.text and "Acknowledge</button>" not in board.text
    alert = site.alert()
    response = site.client.post(f"/alerts/{alert.id}/ack", data={"csrf": csrf_of(board.text)})
    assert response.status_code == 403
    assert site.alert().state == "open"


def test_a_disabled_user_is_logged_out_at_once(site: Site) -> None:
    site.login("alice")
    assert site.client.get("/", follow_redirects=False).status_code == 200
    from custody_watch.web.auth import find_user

    with site.ctx.sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        row.disabled = True
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_session_cookie_is_ignored(site: Site) -> None:
    response = site.login("alice")
    value = response.cookies["cw_session"]
    with TestClient(site.app, cookies={"cw_session": value[:-2] + "xx"}) as other:
        assert other.get("/", follow_redirects=False).status_code == 303


def test_sessions_expire(site: Site) -> None:
    from datetime import timedelta

    site.login("alice")
    site.clock.advance(timedelta(hours=13))
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_api_takes_http_basic(site: Site) -> None:
    good = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    bad = base64.b64encode(b"alice:nope-nope-nope").decode()
    ok = site.client.get("/api/alerts", headers={"Authorization": f"Basic {good}"})
    assert ok.status_code == 200 and ok.json()["alerts"][0]["custody_ref"] == "C-1"
    refused = site.client.get("/api/alerts", headers={"Authorization": f"Basic {bad}"})
    assert refused.status_code == 401


def test_security_headers_everywhere(site: Site) -> None:
    site.login("alice")
    for path in ("/", "/login", "/healthz", "/metrics", "/nowhere", "/ack/forged", "/api/alerts"):
        headers = site.client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'"), path
        assert "script-src" not in headers["content-security-policy"]  # no inline script
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
    assert "cache-control" not in site.client.get("/static/app.css").headers


def test_https_means_secure_cookies_and_hsts(tmp_path: Path, twilio: FakeTwilio) -> None:
    site = make_site(tmp_path, twilio, public="https://custody.example.police.uk")
    response = site.client.get("/login")
    assert "Secure" in response.headers["set-cookie"]
    assert response.headers["strict-transport-security"].startswith("max-age=")
    site.ctx.engine.dispose()


@pytest.mark.parametrize("known", [True, False])
def test_trusted_header_from_a_proxy(tmp_path: Path, twilio: FakeTwilio, known: bool) -> None:
    site = make_site(tmp_path, twilio, extra_web='trusted_user_header = "X-Remote-User"')
    if known:
        site.add_user("alice", "inspector", "insp-a")
    headers = {"X-Remote-User": "alice"}
    board = site.client.get("/", headers=headers)
    assert board.status_code == 200 and "C-1" in board.text
    # Without the header (or with a configured header absent) it is a login as usual.
    assert site.client.get("/", follow_redirects=False).status_code == 303
    alert = site.alert()
    response = site.client.post(
        f"/alerts/{alert.id}/ack", data={"csrf": csrf_of(board.text)}, headers=headers
    )
    if known:  # an inspector in the users table: acknowledges as their rota person
        assert response.status_code == 200
        assert site.alert().acknowledged_by == "insp-a"
    else:  # a stranger to the users table may only look
        assert response.status_code == 403
        assert site.alert().state == "open"
    site.ctx.engine.dispose()


def test_a_server_error_carries_the_security_headers_too(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from custody_watch.web import api

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a bug the tests put here")

    monkeypatch.setattr(api, "alert_rows", broken)
    client = TestClient(site.app, raise_server_exceptions=False)
    site.login("alice", client=client)
    response = client.get("/api/alerts")
    assert response.status_code == 500
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "a bug the tests put here" not in response.text
