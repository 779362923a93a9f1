"""A migrated SQLite store per test, the example config's alert context and the real
renderer: shared by the alert and dispatch tests (each conftest imports them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custody_watch.alerts.deps import AlertDeps
from custody_watch.messages.render import Renderer

from .support import Store, make_context, make_store


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    built = make_store(tmp_path / "t.db")
    yield built
    built.engine.dispose()


@pytest.fixture
def ctx() -> AlertDeps:
    return make_context()
