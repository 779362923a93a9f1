"""Addresses in error text keep host and path, never credentials or a query."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from custody_watch.daemon.poll import poll_source
from custody_watch.redact import redact_urls
from custody_watch.rules import Policy
from custody_watch.sources.base import PollResult, SeenKeys, SourceError
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AuditRow, SourceStateRow


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "GET https://feed.example.police.uk/v1/custody?api_key=S3CRET&page=2 returned 500",
            "GET https://feed.example.police.uk/v1/custody?… returned 500",
        ),
        (
            "connect postgresql://cw:hunter2@db.internal:5432/custody failed",
            "connect postgresql://…@db.internal:5432/custody failed",
        ),
        ("'http://h/x#token=abc' timed out", "'http://h/x' timed out"),
        ("no address here: 127.0.0.1:8080", "no address here: 127.0.0.1:8080"),
    ],
)
def test_a_url_keeps_its_host_and_path_and_loses_its_secrets(text: str, shown: str) -> None:
    assert redact_urls(text) == shown


class FailingFeed:
    name = "national-feed"

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        raise SourceError(
            "https://ops:pa55@feed.example/custody?api_key=S3CRET answered 503 Service Unavailable"
        )


def test_a_failing_sources_error_is_kept_without_its_credentials(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/store.db")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    poll_source(sessions, FailingFeed(), "http_json", None, Policy(), now)
    with sessions() as session:
        state = session.get(SourceStateRow, "national-feed")
        assert state is not None and state.last_error is not None
        audit = " ".join(session.scalars(select(AuditRow.detail)).all())
    for kept in (state.last_error, audit):
        assert "S3CRET" not in kept and "pa55" not in kept
        assert "feed.example/custody" in kept and "503" in kept
    engine.dispose()
