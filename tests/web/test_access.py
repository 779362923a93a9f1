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

from custody_watch.store.users import end_sessions, find_user, set_disabled
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


def test_failed_logins_slow_that_user_and_address_down_with_429_and_retry_after(
    site: Site,
) -> None:
    from datetime import timedelta

    for _ in range(3):
        assert site.login("alice", "guess-guess-guess").status_code == 401
    throttled = site.login("alice")  # even the right password, for now
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert "too many failed logins" in throttled.text
    assert site.audit("login_throttled")
    site.clock.advance(timedelta(seconds=1))
    assert site.login("alice").status_code == 303


def test_a_strangers_wrong_passwords_never_stop_the_user_logging_in_from_elsewhere(
    site: Site,
) -> None:
    with TestClient(site.app, client=("203.0.113.66", 40000)) as stranger:
        for _ in range(40):
            site.login("alice", "guess-guess-guess", client=stranger)
        assert site.login("alice", client=stranger).status_code == 429
    with TestClient(site.app, client=("192.0.2.10", 40000)) as alice:
        assert site.login("alice", client=alice).status_code == 303
        assert alice.get("/", follow_redirects=False).status_code == 200


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
    with site.ctx.sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        row.disabled = True  # even set behind the application's back
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


PROXIED = 'trusted_user_header = "X-Remote-User"\ntrusted_proxies = ["10.0.0.0/8"]'


@pytest.mark.parametrize("known", [True, False])
def test_trusted_header_from_a_proxy(tmp_path: Path, twilio: FakeTwilio, known: bool) -> None:
    site = make_site(tmp_path, twilio, extra_web=PROXIED)
    if known:
        site.add_user("alice", "inspector", "insp-a")
    headers = {"X-Remote-User": "alice"}
    proxy = TestClient(site.app, client=("10.1.2.3", 443))
    board = proxy.get("/", headers=headers, follow_redirects=False)
    if not known:  # no user is made from a header: a name the users table lacks is refused
        assert board.status_code == 303
        assert proxy.get("/api/detentions", headers=headers).status_code == 401
        with site.ctx.sessions() as session:
            assert find_user(session, "alice") is None
        site.ctx.engine.dispose()
        return
    assert board.status_code == 200 and "C-1" in board.text
    # Without the header it is a login as usual.
    assert (
        TestClient(site.app, client=("10.1.2.3", 443)).get("/", follow_redirects=False).status_code
        == 303
    )
    alert = site.alert()
    response = proxy.post(
        f"/alerts/{alert.id}/ack", data={"csrf": csrf_of(board.text)}, headers=headers
    )
    assert response.status_code == 200
    assert site.alert().acknowledged_by == "insp-a"  # as their rota person
    site.ctx.engine.dispose()


def test_the_trusted_header_from_anywhere_but_a_trusted_proxy_is_ignored(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    site = make_site(tmp_path, twilio, extra_web=PROXIED)
    site.add_user("admin1", "admin")
    for peer in ("192.0.2.7", "11.0.0.1", "testclient"):
        stranger = TestClient(site.app, client=(peer, 5000))
        headers = {"X-Remote-User": "admin1"}
        assert stranger.get("/", headers=headers, follow_redirects=False).status_code == 303
        assert stranger.get("/api/detentions", headers=headers).status_code == 401
        assert (
            stranger.get("/admin/sessions", headers=headers, follow_redirects=False).status_code
            == 303
        )
    site.ctx.engine.dispose()


def test_a_header_users_csrf_token_is_their_sessions_not_a_constant(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    site = make_site(tmp_path, twilio, extra_web=PROXIED)
    site.add_user("alice", "inspector", "insp-a")
    headers = {"X-Remote-User": "alice"}
    first = TestClient(site.app, client=("10.0.0.2", 443))
    second = TestClient(site.app, client=("10.0.0.2", 443))
    page = first.get("/", headers=headers)
    token = csrf_of(page.text)
    assert "cw_session" in page.headers["set-cookie"]
    # The same browser keeps its session (and token); another gets its own.
    assert csrf_of(first.get("/", headers=headers).text) == token
    assert csrf_of(second.get("/", headers=headers).text) != token
    alert = site.alert()
    refused = second.post(f"/alerts/{alert.id}/ack", data={"csrf": token}, headers=headers)
    assert refused.status_code == 403 and site.alert().state == "open"
    # Ending the user's sessions ends the token too, though the proxy still vouches.
    with site.ctx.sessions.begin() as session:
        end_sessions(session, "alice", site.clock.now())
    refused = first.post(f"/alerts/{alert.id}/ack", data={"csrf": token}, headers=headers)
    assert refused.status_code == 403 and site.alert().state == "open"
    site.ctx.engine.dispose()


def test_a_disabled_user_named_by_the_proxy_is_refused(tmp_path: Path, twilio: FakeTwilio) -> None:
    site = make_site(tmp_path, twilio, extra_web=PROXIED)
    site.add_user("alice", "inspector", "insp-a")
    with site.ctx.sessions.begin() as session:
        row = find_user(session, "alice")
        assert row is not None
        set_disabled(session, row, True, site.clock.now())
    proxy = TestClient(site.app, client=("10.0.0.2", 443))
    response = proxy.get("/", headers={"X-Remote-User": "alice"}, follow_redirects=False)
    assert response.status_code == 303
    site.ctx.engine.dispose()


def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    site = make_site(tmp_path, twilio, extra_web=PROXIED)
    proxy = TestClient(site.app, client=("10.0.0.2", 443))
    forwarded = {"X-Forwarded-For": "198.51.100.4, 10.0.0.9"}
    page = proxy.get("/login")
    proxy.post(
        "/login",
        data={"username": "victor", "password": "wrong-wrong-wrong", "csrf": csrf_of(page.text)},
        headers=forwarded,
    )
    assert site.audit("login_failed")[-1].detail == "198.51.100.4"
    # From anyone else, X-Forwarded-For is the client's own claim and is not believed.
    direct = TestClient(site.app, client=("192.0.2.50", 443))
    page = direct.get("/login")
    direct.post(
        "/login",
        data={"username": "victor", "password": "wrong-wrong-wrong", "csrf": csrf_of(page.text)},
        headers=forwarded,
    )
    assert site.audit("login_failed")[-1].detail == "192.0.2.50"
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
