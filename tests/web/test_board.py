"""The board as a triage list: order across suites, the summary strip, filters in the URL,
the live fragment, each legal basis's clock, and where each alert stands on its ladder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from custody_watch.daemon.cycle import run_cycle
from fakes.twilio_api import FakeTwilio

from . import support
from .support import T0, Site

H = timedelta(hours=1)
M = timedelta(minutes=1)

TRIAGE_HEADER = (
    "custody_ref,suite,arrival_time,date_of_birth,legal_basis,reviews,"
    "appropriate_adult_requested_time,appropriate_adult_arrived_time,released_time,updated_at,"
    "person_ref,welfare_person_informed_time,mha_extension_time,mha_extension_until,"
    "police_protection_start\n"
)


def row(
    ref: str,
    suite: str,
    arrival: datetime,
    basis: str = "pace_arrest",
    reviews: tuple[datetime, ...] = (),
    extension: tuple[datetime, datetime] | None = None,
) -> str:
    z = support.z
    aa = f"{z(arrival + 10 * M)},{z(arrival + 20 * M)}" if basis != "police_protection" else ","
    ext = f"{z(extension[0])},{z(extension[1])}" if extension else ","
    return (
        f"{ref},{suite},{z(arrival)},2010-06-01,{basis},{';'.join(z(r) for r in reviews)},"
        f"{aa},,{z(T0 - 5 * M)},P-{ref},{z(arrival + 15 * M)},{ext},\n"
    )


# At 10:00 GMT on 14 January 2026 (T0):
# - B-URGENT (suite-b): PACE, held 23h40m, reviewed on time; the PACE limit is 20 minutes away.
# - A-LATER (suite-a): PACE, held 17h; the PACE limit is 7 hours away.
# - A-136 (suite-a): a child at a police station under MHA s.136: critical (s.136A), its 24h
#   runs out at 13:00.
# - A-136X (suite-a): the same with a s.136B extension to 20:00.
# - B-PP (suite-b): police protection for an hour: its 72 hours end on Saturday.
TRIAGE_ROWS = (
    row("A-LATER", "suite-a", T0 - 17 * H, reviews=(T0 - 11 * H, T0 - 2 * H))
    + row("A-136", "suite-a", T0 - 21 * H, "mha_s136")
    + row("A-136X", "suite-a", T0 - 23 * H, "mha_s136", extension=(T0 - 2 * H, T0 + 10 * H))
    + row("B-PP", "suite-b", T0 - H, "police_protection")
    + row(
        "B-URGENT",
        "suite-b",
        T0 - 23 * H - 40 * M,
        reviews=(T0 - 17 * H - 40 * M, T0 - 8 * H - 40 * M),
    )
)


@pytest.fixture
def triage(tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setattr(support, "HEADER", TRIAGE_HEADER)
    monkeypatch.setattr(support, "ROWS", TRIAGE_ROWS)
    made = support.make_site(tmp_path, twilio)
    made.add_user("alice", "inspector", "insp-a")
    made.login("alice")
    yield made
    made.client.close()
    made.ctx.engine.dispose()


def order(page: str) -> list[str]:
    return re.findall(r'<article class="card [^"]*" id="d-([^"]+)"', page)


def card(page: str, ref: str) -> str:
    start = page.index(f'id="d-{ref}"')
    return page[start : page.index("</article>", start)]


def test_the_board_is_one_list_most_severe_first_then_soonest_deadline(triage: Site) -> None:
    page = triage.client.get("/").text
    # Two criticals (a child under s.136 at a station), the sooner limit first; then the
    # highs by their next deadline, whichever suite they are in.
    assert order(page) == ["A-136", "A-136X", "B-URGENT", "A-LATER", "B-PP"]


def test_each_card_shows_the_clock_of_its_legal_basis(triage: Site) -> None:
    page = triage.client.get("/").text
    urgent = card(page, "B-URGENT")
    assert "PACE limit" in urgent and 'data-until="2026-01-14T10:20:00Z"' in urgent
    assert "in 20m" in urgent
    # Of its high findings, the lead is the one nearest its limit: the PACE limit, not the
    # long detention that has no limit of its own.
    lead = urgent[urgent.index('class="lead') : urgent.index("</p>", urgent.index('class="lead'))]
    assert "PACE detention time limit" in lead
    s136 = card(page, "A-136")
    assert "S.136 limit (24h)" in s136 and 'data-until="2026-01-14T13:00:00Z"' in s136
    assert "PACE limit" not in s136 and "not a PACE detention" not in s136
    extended = card(page, "A-136X")
    assert "S.136 limit (extended)" in extended
    assert 'data-until="2026-01-14T20:00:00Z"' in extended
    protection = card(page, "B-PP")
    assert "Police protection (72h)" in protection
    assert 'data-until="2026-01-17T09:00:00Z"' in protection
    assert "Sat 17 Jan 09:00 GMT" in protection


def test_the_summary_strip_counts_children_severities_unacknowledged_and_stale_feeds(
    triage: Site,
) -> None:
    page = triage.client.get("/").text
    strip = page[page.index('class="summary"') : page.index("</section>")]
    assert "<b>5</b> children in custody" in strip
    assert "<b>2</b> critical" in strip
    assert "<b>3</b> high" in strip
    assert "<b>5</b> unacknowledged" in strip
    assert "<b>0</b> feeds stale" in strip
    # The strip comes before the first card (on a phone: summary first).
    assert page.index('class="summary"') < page.index('class="card')


def test_filters_are_kept_in_the_url_and_narrow_the_list(triage: Site) -> None:
    page = triage.client.get("/?suite=suite-b&severity=high").text
    assert order(page) == ["B-URGENT", "B-PP"]
    assert "Showing 2 of 5 (filtered)" in page
    assert '<option value="suite-b" selected>' in page
    # The live updates ask for the same filters.
    assert 'hx-get="/board/live?suite=suite-b&amp;severity=high"' in page
    assert order(triage.client.get("/?severity=critical").text) == ["A-136", "A-136X"]
    assert order(triage.client.get("/?severity=warning").text) == []
    assert "No child matches these filters." in triage.client.get("/?suite=nowhere").text
    # An unknown severity is ignored rather than hiding every child.
    assert len(order(triage.client.get("/?severity=bogus").text)) == 5


def test_the_unacknowledged_filter_drops_a_child_once_acknowledged(triage: Site) -> None:
    alert = triage.alert("B-URGENT")
    page = triage.client.get("/").text
    triage.client.post(f"/alerts/{alert.id}/ack", data={"csrf": support.csrf_of(page)})
    unacked = order(triage.client.get("/?unacknowledged=1").text)
    assert "B-URGENT" not in unacked and len(unacked) == 4


def test_the_grouped_view_is_by_suite_and_keeps_triage_order_within(triage: Site) -> None:
    page = triage.client.get("/?group=suite").text
    assert page.index("<h2>suite-a") < page.index("<h2>suite-b")
    assert order(page) == ["A-136", "A-136X", "A-LATER", "B-URGENT", "B-PP"]


def test_the_live_fragment_is_the_summary_and_list_alone(triage: Site) -> None:
    fragment = triage.client.get("/board/live?suite=suite-a").text
    assert fragment.startswith('<div id="board-live"')
    assert "<html" not in fragment and 'class="summary"' in fragment
    assert order(fragment) == ["A-136", "A-136X", "A-LATER"]
    assert 'hx-trigger="every 15s"' in fragment
    # A later fetch shows the clocks as of then.
    triage.clock.advance(30 * M)
    later = triage.client.get("/board/live").text
    assert "10m overdue" in card(later, "B-URGENT")


def test_the_live_fragment_needs_a_login(triage: Site) -> None:
    with TestClient(triage.app) as stranger:
        response = stranger.get("/board/live", follow_redirects=False)
    assert response.status_code in (303, 401)


def test_htmx_is_served_from_our_own_static_files(triage: Site) -> None:
    page = triage.client.get("/").text
    assert '<script src="/static/htmx.min.js" defer></script>' in page
    script = triage.client.get("/static/htmx.min.js")
    assert script.status_code == 200 and script.text.startswith("var htmx=function()")


def test_a_card_says_who_was_paged_at_which_level_and_what_comes_next(site: Site) -> None:
    site.login("alice")
    first = card(site.client.get("/").text, "C-1")
    assert "Paged insp-a at 10:00 GMT" in first and "level 1 of 2" in first
    assert "not acknowledged for" in first
    assert "Next: escalates to level 2 of 2 (duty_inspector, superintendent)" in first
    assert 'data-until="2026-01-14T10:10:00Z"' in first
    # Ten minutes on, level 2; then every 15 minutes level 2 again.
    for minutes in (10, 25, 40, 55):
        site.clock.set(T0 + minutes * M)
        run_cycle(site.ctx, T0 + minutes * M)
    later = card(site.client.get("/").text, "C-1")
    assert "level 2 of 2, repeat 3" in later
    assert "Next: repeats level 2 (duty_inspector, superintendent)" in later
    assert "not acknowledged for <time" in later and ">55m</time>" in later


def test_the_alert_page_shows_local_times_the_ladder_level_and_findings_by_severity(
    site: Site,
) -> None:
    site.login("alice")
    for minutes in (10, 25, 40, 55):
        site.clock.set(T0 + minutes * M)
        run_cycle(site.ctx, T0 + minutes * M)
    page = site.client.get(f"/alerts/{site.alert().id}").text
    assert "level 2 of 2, repeat 3" in page
    assert "Wed 14 Jan 10:00 GMT" in page  # opened
    assert "2026-01-14T10:00:00Z" not in page.split("<h2>Messages")[0]
    findings = page[page.index("<h2>Findings") :]
    severities = re.findall(r'<li class="sev-(\w+)">', findings[: findings.index("</ul>")])
    ranks = {"critical": 3, "high": 2, "warning": 1, "info": 0}
    assert severities == sorted(severities, key=lambda s: -ranks[s])
    assert len(severities) >= 2


def test_snooze_and_notes_written_to_the_store_show_on_the_card(site: Site) -> None:
    from custody_watch.store.schema import AlertNoteRow, AlertRow

    with site.ctx.sessions.begin() as session:
        alert = session.get(AlertRow, site.alert().id)
        assert alert is not None
        alert.snoozed_until = T0 + 30 * M
        alert.snoozed_by = "insp-a"
        alert.snooze_reason = "AA on the way"
        session.add(AlertNoteRow(alert_id=alert.id, at=T0, author="insp-a", text="handover"))
    site.login("alice")
    shown = card(site.client.get("/").text, "C-1")
    assert "Snoozed by insp-a until 10:30 GMT: AA on the way" in shown
    assert "insp-a:</small> handover" in shown
    # A snooze that has run out is not shown.
    site.clock.set(T0 + 31 * M)
    assert "Snoozed by" not in card(site.client.get("/").text, "C-1")


def test_the_alerts_list_shows_local_times_and_the_ladder_level_not_counting_repeats(
    site: Site,
) -> None:
    site.login("alice")
    for minutes in (10, 25, 40, 55):
        site.clock.set(T0 + minutes * M)
        run_cycle(site.ctx, T0 + minutes * M)
    page = site.client.get("/alerts").text
    assert "Opened Wed 14 Jan 10:00 GMT · level 2 of 2, repeat 3" in page
    assert "level 5" not in page


def test_a_child_detained_again_shows_it_on_the_board_from_the_store(
    tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """repeat_detention counts the person's other detentions in the store (released ones
    too): the board asks for them as the daemon does."""
    z = support.z
    rows = "".join(
        f"R-{n},suite-a,{z(T0 - days * 24 * H)},2010-06-01,pace_arrest,,"
        f"{z(T0 - days * 24 * H + 10 * M)},{z(T0 - days * 24 * H + 20 * M)},"
        f"{z(T0 - days * 24 * H + 5 * H) if days else ''},{z(T0 - 5 * M)},P-SAME,,,,\n"
        for n, days in ((1, 30), (2, 10), (3, 0))
    )
    monkeypatch.setattr(support, "HEADER", TRIAGE_HEADER)
    monkeypatch.setattr(support, "ROWS", rows)
    site = support.make_site(tmp_path, twilio)
    site.add_user("alice", "inspector", "insp-a")
    site.login("alice")
    board = site.client.get("/").text
    card = board[board.index("R-3") :]
    assert "repeatedly detained" in card
    assert "R-1" not in board and "R-2" not in board  # released: not on the board
    site.client.close()
    site.ctx.engine.dispose()


def test_the_detention_page_shows_the_clock_of_its_legal_basis_too(triage: Site) -> None:
    page = triage.client.get("/detentions/A-136").text
    assert 'data-until="2026-01-14T13:00:00Z"' in page  # s.136: 24 hours from arrival
    assert "not a PACE detention" not in page
    page = triage.client.get("/detentions/B-PP").text
    assert 'data-until="2026-01-17T09:00:00Z"' in page  # police protection: 72 hours
