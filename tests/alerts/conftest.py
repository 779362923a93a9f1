"""A migrated SQLite store per test, the example config's alert context, the real renderer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from .fixtures import ctx, renderer, store
from .support import Store

__all__ = ["ctx", "renderer", "session", "store"]


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    """One session for a test that plays several transactions; each ``commit`` is one."""
    with store.sessions() as s:
        yield s
