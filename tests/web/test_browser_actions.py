"""In a real browser: a note and a snooze from the alert page, with screenshots kept under
var/screenshots/ (as test_browser.py does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from custody_watch.store.schema import FindingRow
from fakes.twilio_api import FakeTwilio

from .browsing import SCREENSHOTS, browser, serve_site
from .support import PASSWORD, Site
from .webdriver import Browser

__all__ = ["browser"]


@pytest.fixture
def served(tmp_path: Path, twilio: FakeTwilio) -> Iterator[tuple[Site, str]]:
    yield from serve_site(tmp_path, twilio)


def log_in(browser: Browser, base: str, path: str) -> None:
    browser.get(base + path)
    browser.type("#username", "alice")
    browser.type("#password", PASSWORD)
    browser.click("#login")


def test_a_note_then_a_snooze_from_the_alert_page(
    browser: Browser, served: tuple[Site, str]
) -> None:
    site, base = served
    # C-1's review is recorded: what is left is guidance, not a breach, so it may be snoozed.
    with site.ctx.sessions.begin() as session:
        session.execute(
            update(FindingRow)
            .where(FindingRow.rule == "review_overdue")
            .values(cleared_at=site.clock.now())
        )
    alert = site.alert()
    browser.size(1280, 1100)
    log_in(browser, base, f"/alerts/{alert.id}")
    browser.wait_for_text("#actions", "Notes")

    browser.type("textarea[name=text]", "Handover: AA booked for 11:30")
    browser.click("#add-note")
    notes = browser.wait_for_text("ul.notes", "Handover: AA booked for 11:30")
    assert "insp-a" in notes

    browser.click("#alert-controls summary")
    browser.type("input[name=reason]", "AA arriving 11:30")
    browser.click("#snooze")
    shown = browser.wait_for_text("#actions", "Paging snoozed until")
    assert "AA arriving 11:30" in shown
    assert site.alert().snoozed_until is not None
    browser.screenshot(SCREENSHOTS / "alert-snoozed-with-note.png")

    browser.size(390, 844)  # a phone
    browser.get(base + f"/alerts/{alert.id}")
    browser.wait_for_text("#actions", "Paging snoozed until")
    browser.screenshot(SCREENSHOTS / "alert-actions-phone.png")
