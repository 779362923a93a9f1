"""An acknowledgement link works only in the escalation round it was sent for: after an ack
timeout re-opens paging, after its own use, and after a resolve, the page refuses it and says
why; the link sent in the current round works."""

from __future__ import annotations

from pathlib import Path

from custody_watch.alerts.ack import acknowledge
from custody_watch.daemon.cycle import run_cycle
from daemon.support import HEADER

from .support import T0, H, M, Site, z

EARLIER = "this link was for an earlier round of this alert"


def sent_link(site: Site, person: str = "insp-a") -> str:
    """The link the daemon puts in a page sent now: the alert's current round (the SMS
    channel of this site carries none; tests/alerts/test_ack_rounds.py reads it from email)."""
    assert site.web.links is not None
    alert = site.alert()
    return f"/ack/{site.web.links.token(alert.id, alert.ack_round, person, site.clock.now())}"


def refused(site: Site, path: str) -> None:
    for method in ("GET", "POST"):
        response = site.client.request(method, path)
        assert response.status_code == 403
        assert EARLIER in response.text.lower()


def test_the_link_of_the_current_round_works(site: Site) -> None:
    path = sent_link(site)
    assert site.alert().ack_round == 0
    assert site.client.get(path).status_code == 200
    response = site.client.post(path)
    assert response.status_code == 200 and "acknowledged by insp-a" in response.text
    alert = site.alert()
    assert (alert.state, alert.ack_round) == ("acknowledged", 1)


def test_a_link_is_refused_after_it_was_used(site: Site) -> None:
    path = sent_link(site)
    assert site.client.post(path).status_code == 200
    refused(site, path)
    assert len(site.audit("acknowledged")) == 1
    refusals = site.audit("ack_link_refused")
    assert len(refusals) == 2 and "round 0, alert is in round 1" in refusals[0].detail


def test_a_first_round_link_cannot_silence_paging_resumed_after_an_ack_timeout(
    site: Site,
) -> None:
    first = sent_link(site)
    with site.ctx.sessions.begin() as session:
        code = site.alert().ack_code
        assert acknowledge(session, code, "supt-b", site.ctx.alerts, T0 + M).ok
    # Two hours later (the default ack timeout) the child is still held: paging resumes.
    later = T0 + M + 2 * H
    site.clock.set(later)
    run_cycle(site.ctx, later)
    alert = site.alert()
    assert (alert.state, alert.ack_round) == ("open", 2)
    assert any(e.event == "ack_timed_out" for e in site.audit())

    refused(site, first)
    assert site.alert().state == "open"
    # The page of the new round carries a link that works.
    current = sent_link(site)
    assert current != first
    assert site.client.post(current).status_code == 200
    assert site.alert().state == "acknowledged"


def test_a_link_is_refused_after_the_alert_was_resolved(site: Site) -> None:
    path = sent_link(site)
    released = T0 + H
    inbox = Path(site.ctx.settings.sources[0].path)  # type: ignore[union-attr]
    (inbox / "release.csv").write_text(
        HEADER + f"C-1,suite-a,{z(T0 - 16 * H)},2010-06-01,pace_arrest,,{z(T0 - 15 * H)},,"
        f"{z(released)},{z(released)},P-7781-ZX\n",
        encoding="utf-8",
    )
    site.clock.set(released)
    run_cycle(site.ctx, released, poll_all=True)
    alert = site.alert()
    assert (alert.state, alert.ack_round) == ("resolved", 1)
    refused(site, path)
