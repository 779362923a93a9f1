"""Signed acknowledgement links: GET shows and never acts, POST acts as the link's person;
expired and forged links are refused."""

from __future__ import annotations

from datetime import timedelta

from .support import T0, Site


def link(site: Site, person: str = "insp-a") -> str:
    assert site.web.links is not None
    alert = site.alert()
    return f"/ack/{site.web.links.token(alert.id, alert.ack_round, person, T0)}"


def test_get_shows_the_alert_and_never_acts(site: Site) -> None:
    path = link(site)
    for _ in range(3):  # mail scanners, link previews, a curious person
        page = site.client.get(path)
        assert page.status_code == 200
        assert "C-1" in page.text and "Acknowledge alert" in page.text
        assert "Insp. A. Example" in page.text
    assert site.alert().state == "open"
    assert site.audit("acknowledged") == []


def test_post_acknowledges_as_the_links_person(site: Site) -> None:
    path = link(site, "supt-b")
    response = site.client.post(path)
    assert response.status_code == 200
    assert "acknowledged by supt-b" in response.text
    alert = site.alert()
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", "supt-b")
    acks = site.audit("acknowledged")
    assert len(acks) == 1 and "via link" in acks[0].detail
    again = site.client.post(path)  # a link is single-use: its round ended with it
    assert again.status_code == 403 and "earlier round" in again.text
    assert len(site.audit("acknowledged")) == 1


def test_expired_links_are_refused(site: Site) -> None:
    path = link(site)
    site.clock.advance(timedelta(hours=24))  # [web] ack_link_ttl, default 24h
    for method in ("GET", "POST"):
        response = site.client.request(method, path)
        assert response.status_code == 403
        assert "expired" in response.text
    assert site.alert().state == "open"
    assert len(site.audit("ack_link_refused")) == 2


def test_forged_links_are_refused(site: Site) -> None:
    from custody_watch.alerts.links import AckLinks

    forged = AckLinks("not-the-key", "http://x", timedelta(hours=1)).token(
        site.alert().id, 0, "insp-a", T0
    )
    damaged = link(site)[:-3] + "abc"
    for path in (f"/ack/{forged}", damaged, "/ack/nonsense"):
        response = site.client.post(path)
        assert response.status_code == 403
        assert "not valid" in response.text
    assert site.alert().state == "open"


def test_a_link_for_someone_not_in_the_rota_is_refused(site: Site) -> None:
    response = site.client.post(link(site, "departed"))
    assert response.status_code == 403
    assert site.alert().state == "open"
