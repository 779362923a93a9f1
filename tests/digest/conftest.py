"""Fixtures for digest tests: a store on a SQLite file and the fake SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.fixtures import fake_smtp

from .support import Store, make_store

__all__ = ["fake_smtp", "store"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return make_store(tmp_path)
