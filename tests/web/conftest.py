"""Fixtures for the web tests: a site built by the real pipeline (see support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.twilio_api import FakeTwilio

from .support import Site, make_site


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def site(tmp_path: Path, twilio: FakeTwilio) -> Iterator[Site]:
    made = make_site(tmp_path, twilio)
    made.add_user("alice", "inspector", "insp-a")
    made.add_user("victor", "viewer")
    yield made
    made.client.close()
    made.ctx.engine.dispose()
