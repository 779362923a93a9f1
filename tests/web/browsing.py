"""What the browser tests share: the headless Chromium, a site served on a free port with
alice able to log in, and where the screenshots go."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody_watch.web.server import BackgroundServer
from fakes.ports import free_port
from fakes.twilio_api import FakeTwilio

from .support import Site, make_site
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


def serve_site(tmp_path: Path, twilio: FakeTwilio) -> Iterator[tuple[Site, str]]:
    """The site (as ``support`` makes it at the time) served on a free port, with alice, an
    inspector, as a user: (site, base URL)."""
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
