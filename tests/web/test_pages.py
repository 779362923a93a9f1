"""The pages and the JSON API over data made by the real pipeline."""

from __future__ import annotations

import re

from .support import T0, Site, csrf_of


def test_the_board_shows_children_in_custody_with_live_clocks(site: Site) -> None:
    site.login("alice")
    board = site.client.get("/").text
    assert '<meta name="viewport"' in board
    assert "C-1" in board and "C-2" in board
    assert "A-1" not in board  # an adult
    assert "C-9" not in board  # quarantined
    card = board[board.index('id="d-C-1"') : board.index('id="d-C-2"')]
    assert "15 · PACE arrest" in card
    assert 'data-since="2026-01-13T18:00:00Z"' in card  # held since (ticks)
    assert 'data-until="2026-01-14T18:00:00Z"' in card  # PACE limit: RT + 24h
    assert 'data-until="2026-01-14T00:00:00Z"' in card  # first review: RT + 6h
    assert "10h overdue" in card
    assert "not arrived" in card
    for label in ("PACE review overdue", "no appropriate adult", "child held a long time"):
        assert label in card
    assert "not acknowledged for" in card
    assert "Paged insp-a" in card and "level 1 of 2" in card
    assert "present since 09:00 GMT" in board  # C-2's appropriate adult
    # One triage list across suites: the critical child in suite-a before the child in
    # suite-b with no findings.
    assert board.index('id="d-C-1"') < board.index('id="d-C-2"')


def test_acknowledging_from_the_board(site: Site) -> None:
    site.login("alice")
    board = site.client.get("/")
    alert = site.alert()
    response = site.client.post(
        f"/alerts/{alert.id}/ack",
        data={"csrf": csrf_of(board.text), "back": "/#d-C-1"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/#d-C-1"
    after = site.client.get("/").text
    assert "acknowledged by insp-a" in after
    assert site.alert().state == "acknowledged"
    assert any("via web" in a.detail for a in site.audit("acknowledged"))


def test_the_detention_timeline(site: Site) -> None:
    site.login("alice")
    page = site.client.get("/detentions/C-1").text
    for text in (
        "arrived at the custody suite",
        "appropriate adult requested",
        "first seen (suite-a: day.csv row 1)",
        "PACE review overdue",
        "notify to insp-a by sms",
        "opened",
    ):
        assert text in page, text
    assert "P-7781-ZX" not in page  # the person reference is not shown
    site.client.post(
        f"/alerts/{site.alert().id}/ack", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert "acknowledged: code" in site.client.get("/detentions/C-1").text
    assert site.client.get("/detentions/NOPE").status_code == 404


def test_alerts_quarantine_sources_and_oncall(site: Site) -> None:
    site.login("victor")
    alerts = site.client.get("/alerts").text
    assert "C-1" in alerts and site.alert().ack_code in alerts
    detail = site.client.get(f"/alerts/{site.alert().id}").text
    assert "+447700900001" not in detail or "insp-a" in detail
    assert "insp-a" in detail and "sms" in detail
    quarantine = site.client.get("/quarantine").text
    assert "C-9" in quarantine and "arrival_time" in quarantine
    sources = site.client.get("/sources").text
    assert "suite-a" in sources and "4 read, 1 rejected" in sources
    oncall = site.client.get("/oncall").text
    assert "duty_inspector" in oncall and "Insp. A. Example" in oncall


def test_times_are_shown_in_london_time(site: Site) -> None:
    site.login("alice")
    page = site.client.get("/").text
    assert "Tue 13 Jan 18:00 GMT" in page  # January: GMT
    assert re.search(r"Europe/London local time; it is now Wed 14 Jan 10:00 GMT", page)


def test_json_api(site: Site) -> None:
    site.login("alice")
    alerts = site.client.get("/api/alerts").json()["alerts"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert {"id", "custody_ref", "suite", "severity", "state", "ack_code", "opened_at"} <= set(
        alert
    )
    assert alert["custody_ref"] == "C-1" and alert["severity"] == "critical"
    assert alert["opened_at"] == "2026-01-14T10:00:00Z"
    detail = site.client.get(f"/api/alerts/{alert['id']}").json()
    assert detail["events"] and detail["findings"]
    board = site.client.get("/api/detentions").json()
    assert board["now"] == "2026-01-14T10:00:00Z"
    refs = [d["custody_ref"] for d in board["detentions"]]
    assert refs == ["C-1", "C-2"]
    first = board["detentions"][0]
    assert first["pace_limit"]["at"] == "2026-01-14T18:00:00Z"
    assert first["next_review"] == {"at": "2026-01-14T00:00:00Z", "note": "first review"}
    assert first["held_minutes"] == 16 * 60
    assert first["alert"]["state"] == "open"
    one = site.client.get("/api/detentions/C-1").json()
    assert one["in_custody"] and one["timeline"] and "person_ref" not in one["record"]
    assert site.client.get("/api/detentions/NOPE").status_code == 404
    assert site.client.get("/api/alerts/999").status_code == 404
    assert T0  # the clock the data was made on


def test_openapi_description(site: Site) -> None:
    site.login("alice")
    spec = site.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/alerts", "/api/alerts/{alert_id}", "/api/detentions"} <= set(spec["paths"])
    assert not any(path.startswith(("/twilio", "/ack", "/login")) for path in spec["paths"])
    docs = site.client.get("/api/docs").text
    assert "/api/detentions" in docs


def test_an_alert_id_past_the_databases_integers_is_not_found_not_a_server_error(
    site: Site,
) -> None:
    site.login("alice")
    board = site.client.get("/")
    for too_big in ("9223372036854775808", "99999999999999999999999", "0", "-1"):
        assert site.client.get(f"/api/alerts/{too_big}").status_code == 404, too_big
        assert site.client.get(f"/alerts/{too_big}").status_code == 404, too_big
        posted = site.client.post(
            f"/alerts/{too_big}/ack", data={"csrf": csrf_of(board.text)}, follow_redirects=False
        )
        assert posted.status_code == 404, too_big
