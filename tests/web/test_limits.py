"""Every body is bounded whatever its transfer encoding (413, nothing parsed or spooled to
disk), multipart is refused, ids past the database's integers are 404, and every response,
errors included, carries the security headers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette import formparsers

from .support import Site, csrf_of

PUBLIC_POSTS = ("/login", "/logout", "/ack/some-token", "/twilio/inbound", "/twilio/status")


def chunks(total: int, size: int = 16 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a" * min(size, total - sent)
        sent += size


def secured(response: object) -> bool:
    headers = response.headers  # type: ignore[attr-defined]
    return (
        headers.get("content-security-policy", "").startswith("default-src 'self'")
        and headers.get("x-frame-options") == "DENY"
        and headers.get("x-content-type-options") == "nosniff"
        and headers.get("referrer-policy") == "no-referrer"
        and headers.get("cache-control") == "no-store"
    )


@pytest.fixture
def no_spooling(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails the test if anything opens a temporary file (Starlette spools multipart
    parts to SpooledTemporaryFile)."""
    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> object:
        opened.append(args)
        raise AssertionError("a request body was spooled to a temporary file")

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", refuse)
    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    return opened


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_a_chunked_body_past_the_limit_is_413_on_every_public_post(
    site: Site, path: str, no_spooling: list[object]
) -> None:
    response = site.client.post(
        path,
        content=chunks(2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert secured(response)
    assert no_spooling == []


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_a_declared_length_past_the_limit_is_413_before_reading(site: Site, path: str) -> None:
    response = site.client.post(
        path,
        content=b"a" * (64 * 1024 + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413 and secured(response)


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_multipart_is_refused_and_never_spooled(
    site: Site, path: str, no_spooling: list[object]
) -> None:
    response = site.client.post(
        path,
        files={"upload": ("big.bin", b"x" * 10_000, "application/octet-stream")},
        data={"username": "alice"},
    )
    assert response.status_code == 415 and secured(response)
    assert no_spooling == []


def test_a_body_within_the_limit_still_works(site: Site) -> None:
    assert site.login("alice").status_code == 303
    board = site.client.get("/")
    response = site.client.post(
        f"/alerts/{site.alert().id}/ack", data={"csrf": csrf_of(board.text), "back": "/"}
    )
    assert response.status_code == 200 and site.alert().state == "acknowledged"


@pytest.mark.parametrize(
    "path",
    [
        "/alerts/99999999999999999999999",
        "/alerts/9223372036854775808",
        "/alerts/0",
        "/alerts/-1",
        "/api/alerts/9223372036854775808",
        "/api/alerts/99999999999999999999999",
        "/api/alerts/-5",
    ],
)
def test_ids_out_of_range_are_404(site: Site, path: str) -> None:
    site.login("alice")
    response = site.client.get(path)
    assert response.status_code == 404 and secured(response)


def test_an_ack_with_an_id_out_of_range_is_404(site: Site) -> None:
    site.login("alice")
    csrf = csrf_of(site.client.get("/").text)
    response = site.client.post("/alerts/9223372036854775808/ack", data={"csrf": csrf})
    assert response.status_code == 404 and secured(response)


def test_every_error_carries_the_security_headers(site: Site) -> None:
    site.login("alice")
    not_found = site.client.get("/no/such/page")
    wrong_method = site.client.put("/login")
    invalid = site.client.get("/alerts/not-a-number")
    too_large = site.client.post("/login", content=b"a" * 70_000)
    assert [r.status_code for r in (not_found, wrong_method, invalid, too_large)] == [
        404,
        405,
        422,
        413,
    ]
    assert all(secured(r) for r in (not_found, wrong_method, invalid, too_large))


def test_a_500_carries_the_security_headers(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from custody_watch.web import pages

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a bug the tests put here")

    monkeypatch.setattr(pages, "alert_rows", broken)
    client = TestClient(site.app, raise_server_exceptions=False)
    site.login("alice", client=client)
    response = client.get("/alerts")
    assert response.status_code == 500 and secured(response)
    assert "a bug the tests put here" not in response.text


def test_every_route_with_an_alert_id_answers_404_past_64_bits(site: Site) -> None:
    from .test_access import routes

    site.login("alice")
    csrf = csrf_of(site.client.get("/").text)
    with_ids = [(m, p) for m, p in routes(site) if "{alert_id}" in p]
    assert len(with_ids) >= 3  # the page, its API twin and the acknowledge form at least
    for method, path in with_ids:
        for bad in ("9223372036854775808", "99999999999999999999999", "0"):
            url = path.replace("{alert_id}", bad)
            if method == "POST" and path.startswith("/api/"):
                # A body every action's model takes, so only the id can be wrong.
                body = {"reason": "r", "text": "t", "to": "insp-a", "duration": "30m"}
                response = site.client.post(url, json=body, headers={"X-CSRF-Token": csrf})
            else:
                response = site.client.request(
                    method,
                    url,
                    data={"csrf": csrf} if method == "POST" else None,
                    follow_redirects=False,
                )
            assert response.status_code == 404, (method, path, bad, response.status_code)
            assert secured(response)
