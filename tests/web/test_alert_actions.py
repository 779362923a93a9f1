"""Snooze, notes, escalate-now and reassign from the alert page (CSRF-checked forms) and the
JSON API, and the alerts as CSV; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from custody_watch.store.schema import FindingRow
from fakes.twilio_api import FakeTwilio

from .support import PASSWORD, Site, csrf_of, make_site


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_site(request: pytest.FixtureRequest, tmp_path: Path, twilio: FakeTwilio) -> Iterator[Site]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_schema_url")
    made = make_site(tmp_path, twilio, database_url=url)
    made.add_user("alice", "inspector", "insp-a")
    made.add_user("victor", "viewer")
    yield made
    made.client.close()
    made.ctx.engine.dispose()


def alert_page(site: Site) -> tuple[int, str]:
    alert = site.alert()
    page = site.client.get(f"/alerts/{alert.id}")
    assert page.status_code == 200
    return alert.id, page.text


def basic(username: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_a_note_added_on_the_alert_page_is_listed_there_and_audited(any_site: Site) -> None:
    any_site.login("alice")
    alert_id, page = alert_page(any_site)
    response = any_site.client.post(
        f"/alerts/{alert_id}/note",
        data={"csrf": csrf_of(page), "text": "Handover: AA booked for 03:30"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    _, after = alert_page(any_site)
    assert "Handover: AA booked for 03:30" in after
    assert [a.actor for a in any_site.audit("note_added")] == ["insp-a"]


def test_a_form_without_the_csrf_token_changes_nothing(any_site: Site) -> None:
    any_site.login("alice")
    alert_id, _page = alert_page(any_site)
    response = any_site.client.post(
        f"/alerts/{alert_id}/snooze", data={"reason": "x", "for": "30m", "csrf": "forged"}
    )
    assert response.status_code == 403
    assert any_site.alert().snoozed_until is None


def review_done(site: Site) -> None:
    """C-1's review is recorded: what is left (held long, no AA, overnight) is guidance, not a
    statutory breach, so it may be snoozed."""
    with site.ctx.sessions.begin() as session:
        session.execute(
            update(FindingRow)
            .where(FindingRow.rule == "review_overdue")
            .values(cleared_at=site.clock.now())
        )


def test_a_snooze_is_refused_on_the_page_while_a_finding_is_a_statutory_breach(
    any_site: Site,
) -> None:
    any_site.login("alice")
    alert_id, page = alert_page(any_site)
    response = any_site.client.post(
        f"/alerts/{alert_id}/snooze",
        data={"csrf": csrf_of(page), "reason": "AA arriving", "for": "30m"},
    )
    assert response.status_code == 409
    assert "review_overdue is already a statutory breach" in response.text
    assert any_site.alert().snoozed_until is None


def test_a_snooze_from_the_page_is_shown_with_its_reason(any_site: Site) -> None:
    review_done(any_site)
    any_site.login("alice")
    alert_id, page = alert_page(any_site)
    response = any_site.client.post(
        f"/alerts/{alert_id}/snooze",
        data={"csrf": csrf_of(page), "reason": "AA arriving", "for": "30m"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert any_site.alert().snoozed_until is not None
    _, after = alert_page(any_site)
    assert "Paging snoozed until" in after and "AA arriving" in after


def test_a_viewer_may_not_act_on_an_alert(any_site: Site) -> None:
    any_site.login("victor")
    alert_id, page = alert_page(any_site)
    assert "Add note" not in page
    response = any_site.client.post(f"/alerts/{alert_id}/escalate", data={"csrf": csrf_of(page)})
    assert response.status_code == 403


def test_the_api_reassigns_and_escalates_with_basic_auth(any_site: Site) -> None:
    alert_id = any_site.alert().id
    response = any_site.client.post(
        f"/api/alerts/{alert_id}/reassign", json={"to": "supt-b"}, headers=basic("alice")
    )
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    assert any_site.alert().assigned_to == "supt-b"
    response = any_site.client.post(f"/api/alerts/{alert_id}/escalate", headers=basic("alice"))
    assert response.status_code == 200, response.text
    detail = any_site.client.get(f"/api/alerts/{alert_id}", headers=basic("alice")).json()
    assert detail["assigned_to"] == "supt-b"


def test_the_api_refuses_a_bad_snooze_with_409_and_says_why(any_site: Site) -> None:
    alert_id = any_site.alert().id
    response = any_site.client.post(
        f"/api/alerts/{alert_id}/snooze",
        json={"reason": "busy", "duration": "3h"},
        headers=basic("alice"),
    )
    assert response.status_code == 409
    assert "at most 2h" in response.json()["message"]


def test_a_cookie_session_must_send_its_csrf_token_to_the_api(any_site: Site) -> None:
    any_site.login("alice")
    alert_id, page = alert_page(any_site)
    refused = any_site.client.post(f"/api/alerts/{alert_id}/notes", json={"text": "x"})
    assert refused.status_code == 403
    taken = any_site.client.post(
        f"/api/alerts/{alert_id}/notes",
        json={"text": "from a script in the page"},
        headers={"X-CSRF-Token": csrf_of(page)},
    )
    assert taken.status_code == 200
    notes = any_site.client.get("/api/alerts").json()["alerts"][0]["notes"]
    assert [n["text"] for n in notes] == ["from a script in the page"]


def test_the_alerts_page_downloads_as_csv(any_site: Site) -> None:
    any_site.login("victor")
    response = any_site.client.get("/alerts.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    alert = any_site.alert()
    assert [(r["id"], r["ack_code"]) for r in rows] == [(str(alert.id), alert.ack_code)]


def test_a_user_named_by_a_trusted_proxy_must_send_the_csrf_token_to_the_api_too(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    """The proxy adds its header to any request the browser makes, a cross-site one
    included: the header alone must not let a page elsewhere act on an alert."""
    from fastapi.testclient import TestClient

    site = make_site(
        tmp_path,
        twilio,
        extra_web='trusted_user_header = "X-Remote-User"\ntrusted_proxies = ["10.0.0.0/8"]',
    )
    site.add_user("alice", "inspector", "insp-a")
    proxy = TestClient(site.app, client=("10.1.2.3", 443))
    headers = {"X-Remote-User": "alice"}
    alert = site.alert()
    page = proxy.get(f"/alerts/{alert.id}", headers=headers)
    refused = proxy.post(f"/api/alerts/{alert.id}/notes", json={"text": "x"}, headers=headers)
    assert refused.status_code == 403
    taken = proxy.post(
        f"/api/alerts/{alert.id}/notes",
        json={"text": "from the page"},
        headers={**headers, "X-CSRF-Token": csrf_of(page.text)},
    )
    assert taken.status_code == 200
    proxy.close()
    site.ctx.engine.dispose()
