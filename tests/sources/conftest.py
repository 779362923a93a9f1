"""Fixtures for the source tests: a set of read keys, a PostgreSQL table, an HTTP feed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from .feed_server import FeedServer


class SeenSet:
    """``SeenKeys`` over a plain set: what the store would say was already read."""

    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)

    def seen(self, key: str) -> bool:
        return key in self.keys


@pytest.fixture
def seen() -> SeenSet:
    return SeenSet()


@pytest.fixture
def pg_table(postgres_url: str) -> Iterator[tuple[str, str]]:
    """A unique table name in the PostgreSQL test database, dropped afterwards.

    ``postgres_url`` (tests/conftest.py) tries the server with a 2 s connect timeout and
    skips, saying why, when it is not answering."""
    name = f"cw_src_{uuid.uuid4().hex[:12]}"
    yield postgres_url, name
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
    engine.dispose()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()
