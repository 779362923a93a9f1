"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Tests run two at a time (xdist) beside real servers and daemon subprocesses: how long one
# example takes on a loaded machine is not what any property checks, so no deadline and no
# too-slow health check (each would fail a correct run at random).
settings.register_profile(
    "custody-watch", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("custody-watch")

POSTGRES_URL = os.environ.get(
    "CUSTODY_WATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_problem() -> str | None:
    import psycopg

    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=2):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test server. Skipped with the reason on a laptop without one; a
    failure in CI (``CUSTODY_WATCH_REQUIRE_POSTGRES=1``), where it must run."""
    problem = _postgres_problem()
    if problem is None:
        return POSTGRES_URL
    message = f"PostgreSQL at {POSTGRES_URL} is not answering: {problem}"
    if os.environ.get("CUSTODY_WATCH_REQUIRE_POSTGRES"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema, dropped afterwards, so tests never
    see each other's tables."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
