"""The two databases the store runs on, migrated by the program's own ``upgrade``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from custody_watch.store.db import make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty SQLite file or an empty PostgreSQL schema; nothing migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/fresh.db"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()
