"""In a real browser: log in, see a child on the board, acknowledge the alert, and keep
screenshots under var/screenshots/ (CI keeps them as artifacts).

Needs Debian's chromium and chromium-driver. Skipped with the reason when they are missing,
except with CUSTODY_WATCH_REQUIRE_BROWSER=1 (CI), where that is a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody_watch.web.server import BackgroundServer
from fakes.ports import free_port
from fakes.twilio_api import FakeTwilio

from .support import PASSWORD, Site, make_site
from .webdriver import Browser, find_browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    found = find_browser()
    if isinstance(found, str):
        if os.environ.get("CUSTODY_WATCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here: {found}")
        pytest.skip(found)
    chromium, driver = found
    opened = Browser(chromium, driver, tmp_path / "chromium-profile")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def served(tmp_path: Path, twilio: FakeTwilio) -> Iterator[tuple[Site, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(tmp_path, twilio, public=base)
    site.add_user("alice", "inspector", "insp-a")
    server = BackgroundServer(site.web, listen=f"127.0.0.1:{port}").start()
    try:
        yield site, base
    finally:
        server.stop()
        site.ctx.engine.dispose()


def test_log_in_see_the_child_and_acknowledge(browser: Browser, served: tuple[Site, str]) -> None:
    site, base = served
    browser.size(1280, 1000)
    browser.get(base + "/")
    assert browser.url.startswith(base + "/login")
    browser.type("#username", "alice")
    browser.type("#password", PASSWORD)
    browser.click("#login")
    card = browser.wait_for_text("#d-C-1", "not acknowledged")
    assert "C-1" in card and "critical" in card.lower() and "PACE review overdue" in card
    assert browser.url == base + "/"
    # The clocks were ticked by the page's script (the server's clock is 10:00 GMT).
    assert "overdue" in browser.text("#d-C-1 time.countdown.overdue")

    browser.click("#d-C-1 button.ack")
    card = browser.wait_for_text("#d-C-1", "acknowledged by insp-a")
    assert "acknowledged by insp-a" in card
    alert = site.alert()
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", "insp-a")
    browser.script("window.scrollTo(0, 0)")
    browser.screenshot(SCREENSHOTS / "board.png")

    # The same board on a phone-sized window.
    browser.size(412, 915)
    browser.get(base + "/")
    browser.find("#d-C-1")
    width = browser.script("return document.documentElement.scrollWidth")
    assert width <= 412, f"the board is {width}px wide on a 412px phone"
    browser.screenshot(SCREENSHOTS / "board-phone.png")
    assert (SCREENSHOTS / "board.png").stat().st_size > 10_000
