"""In a real browser: log in, see a child on the board, acknowledge the alert; the triage
order across two suites, the phone width, the live update and the stale-feed banner; and keep
screenshots under var/screenshots/ (CI keeps them as artifacts).

Needs Debian's chromium and chromium-driver. Skipped with the reason when they are missing,
except with CUSTODY_WATCH_REQUIRE_BROWSER=1 (CI), where that is a failure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from fakes.twilio_api import FakeTwilio

from . import support
from .browsing import SCREENSHOTS, browser, serve_site
from .support import PASSWORD, Site
from .test_board import TRIAGE_HEADER, TRIAGE_ROWS, row
from .webdriver import Browser


@pytest.fixture
def served(tmp_path: Path, twilio: FakeTwilio) -> Iterator[tuple[Site, str]]:
    yield from serve_site(tmp_path, twilio)


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


H = timedelta(hours=1)
M = timedelta(minutes=1)

__all__ = ["browser"]  # a fixture, used by name


def serve(
    tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, rows: str
) -> Iterator[tuple[Site, str]]:
    monkeypatch.setattr(support, "HEADER", TRIAGE_HEADER)
    monkeypatch.setattr(support, "ROWS", rows)
    yield from serve_site(tmp_path, twilio)


@pytest.fixture
def two_suites(
    tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Site, str]]:
    yield from serve(tmp_path, twilio, monkeypatch, TRIAGE_ROWS)


def twenty_three_children() -> str:
    """23 children over two suites, as a busy night looks: most held a few hours, some long,
    one under s.136, one in police protection, and one whose PACE limit is 20 minutes away."""
    T0 = support.T0
    rows = [
        row("B-4116", "suite-b", T0 - 23 * H - 40 * M, reviews=(T0 - 17 * H - 40 * M, T0 - 9 * H)),
        row("A-136", "suite-a", T0 - 5 * H, "mha_s136"),
        row("B-PP", "suite-b", T0 - 50 * M, "police_protection"),
    ]  # fmt: skip
    for n in range(20):
        suite = "suite-a" if n % 2 else "suite-b"
        held = (n * 37) % 15 * H + (n * 13) % 60 * M + 30 * M
        reviews = tuple(T0 - held + 6 * H * k for k in range(1, 3) if 6 * H * k < held)
        rows.append(row(f"{suite[-1].upper()}-{4200 + n}", suite, T0 - held, reviews=reviews))
    return "".join(rows)


@pytest.fixture
def busy_night(
    tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Site, str]]:
    yield from serve(tmp_path, twilio, monkeypatch, twenty_three_children())


def log_in(browser: Browser, base: str) -> None:
    browser.get(base + "/login")
    browser.type("#username", "alice")
    browser.type("#password", PASSWORD)
    browser.click("#login")
    browser.find("#board-live")


def cards(browser: Browser) -> list[dict[str, float | str]]:
    found = browser.script(
        "return Array.from(document.querySelectorAll('article.card')).map(function (c) {"
        "  var r = c.getBoundingClientRect();"
        "  return {id: c.id, top: r.top + window.scrollY, left: r.left, right: r.right}; });"
    )
    assert isinstance(found, list)
    return found


def test_the_most_urgent_child_comes_first_across_two_suites(
    browser: Browser, two_suites: tuple[Site, str]
) -> None:
    _, base = two_suites
    browser.size(1280, 1000)
    log_in(browser, base)
    shown = cards(browser)
    assert [c["id"] for c in shown] == ["d-A-136", "d-A-136X", "d-B-URGENT", "d-A-LATER", "d-B-PP"]
    # Read as a page is read (top to bottom, left to right), the order is the same.
    reading = sorted(shown, key=lambda c: (round(float(c["top"])), float(c["left"])))
    assert reading == shown
    first = browser.text("#board-live article.card")
    assert "A-136" in first and "s.136 limit (24h)" in first.lower() and "in 3h" in first
    urgent = browser.text("#d-B-URGENT")
    assert "pace limit" in urgent.lower() and "in 20m" in urgent
    browser.script("window.scrollTo(0, 0)")
    browser.screenshot(SCREENSHOTS / "triage-two-suites.png")


def test_the_board_on_a_phone_is_one_column_summary_first(
    browser: Browser, two_suites: tuple[Site, str]
) -> None:
    _, base = two_suites
    browser.size(412, 915)
    log_in(browser, base)
    width = browser.script("return document.documentElement.scrollWidth")
    assert width <= 412, f"the board is {width}px wide on a 412px phone"
    shown = cards(browser)
    assert len({round(float(c["left"])) for c in shown}) == 1  # one column
    assert all(float(c["right"]) <= 412 for c in shown)
    summary_top = browser.script(
        "return document.querySelector('.summary').getBoundingClientRect().top"
    )
    assert float(summary_top) < float(shown[0]["top"])
    assert shown[0]["id"] == "d-A-136"
    browser.script("window.scrollTo(0, 0)")
    browser.screenshot(SCREENSHOTS / "triage-phone.png")


def test_the_board_updates_itself_and_a_stale_feed_puts_a_banner_on_every_page(
    browser: Browser, two_suites: tuple[Site, str]
) -> None:
    site, base = two_suites
    browser.size(1280, 900)
    log_in(browser, base)
    assert browser.script("return document.getElementById('stale-banner')") is None
    assert "0 feeds stale" in browser.text(".summary")
    # Sixteen minutes without a poll: suite-a (stale_after 15m) is stale. The board's list
    # is fetched again by htmx within 15 s, without a reload.
    browser.script("window.notReloaded = true")
    site.clock.advance(16 * M)
    assert "1 feed stale" in browser.wait_for_text(".summary", "1 feed stale", timeout=25)
    assert browser.script("return window.notReloaded") is True
    for path in ("/", "/alerts", "/sources"):
        browser.get(base + path)
        banner = browser.text("#stale-banner")
        assert "Feed stale" in banner and "suite-a" in banner, path
        assert "no successful poll for 16m" in banner
    browser.get(base + "/")
    browser.find("#stale-banner")
    browser.screenshot(SCREENSHOTS / "stale-banner.png")


def test_a_busy_night_of_23_children_at_desktop_and_phone_width(
    browser: Browser, busy_night: tuple[Site, str]
) -> None:
    _, base = busy_night
    browser.size(1440, 1800)
    log_in(browser, base)
    shown = cards(browser)
    assert len(shown) == 23
    assert shown[0]["id"] in ("d-A-136", "d-B-4116")  # the critical child leads
    assert "23 children in custody" in browser.text(".summary")
    browser.script("window.scrollTo(0, 0)")
    browser.screenshot(SCREENSHOTS / "board-23-desktop.png")
    browser.size(412, 915)
    browser.get(base + "/")
    browser.find("#board-live")
    width = browser.script("return document.documentElement.scrollWidth")
    assert width <= 412, f"the board is {width}px wide on a 412px phone"
    browser.script("window.scrollTo(0, 0)")
    browser.screenshot(SCREENSHOTS / "board-23-phone.png")


def test_the_alert_page_on_a_phone(browser: Browser, two_suites: tuple[Site, str]) -> None:
    site, base = two_suites
    browser.size(412, 915)
    log_in(browser, base)
    browser.get(f"{base}/alerts/{site.alert('B-URGENT').id}")
    page = browser.text("main")
    assert "level 1 of 2" in page.lower() and "Wed 14 Jan 10:00 GMT" in page
    assert "2026-01-14T" not in page.split("Messages")[0]
    width = browser.script("return document.documentElement.scrollWidth")
    assert width <= 412, f"the alert page is {width}px wide on a 412px phone"
    browser.screenshot(SCREENSHOTS / "alert-phone.png")


def test_when_the_session_ends_the_live_board_goes_to_the_login_page(
    browser: Browser, two_suites: tuple[Site, str]
) -> None:
    site, base = two_suites
    browser.size(1280, 900)
    log_in(browser, base)
    site.clock.advance(61 * M)  # past the hour's idle timeout
    deadline = 25.0
    while not browser.url.startswith(base + "/login") and deadline > 0:
        browser.script("return 1")
        deadline -= 0.5
        time.sleep(0.5)
    assert browser.url.startswith(base + "/login")
    assert browser.script("return document.querySelectorAll('#board-live #login').length") == 0
