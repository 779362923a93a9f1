"""A newcomer's first ten minutes: help that keeps its text and gives a time example, quiet
logs, ``ack`` on a replay's clock, and ``run --speed`` resuming where the store's clock was."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest

from custody_watch.cli.common import replay_instant, stored_until
from custody_watch.config.model import LoggingSettings
from custody_watch.logs import logging_for
from custody_watch.store import audit
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade

from .support import cli

REAL_NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def test_help_keeps_config_sections_in_square_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = cli(capsys, "web", "--help")
    assert code == 0
    assert "[web] listen" in out


def test_help_shows_flags_without_a_type_and_time_options_with_an_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _err = cli(capsys, "run", "--help")
    assert code == 0
    assert "<bool>" not in out
    assert "--verbose" in out and "-v" in out
    assert "e.g. 2026-06-10T21:30:00Z" in " ".join(out.split())


def test_scheduler_and_alembic_chatter_is_hidden_unless_verbose() -> None:
    for verbose, shown in ((False, False), (True, True)):
        stream = io.StringIO()
        with logging_for(LoggingSettings(level="info"), stream, verbose=verbose):
            logging.getLogger("apscheduler.executors.default").info("Running job tick")
            logging.getLogger("alembic.runtime.migration").info("Will assume transactional DDL")
            logging.getLogger("custody_watch.events").info("page sent C-1")
        text = stream.getvalue()
        assert ("Running job" in text) is shown
        assert ("transactional DDL" in text) is shown
        assert "page sent C-1" in text


def store_with_event_at(tmp_path, at: datetime):
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        audit.record(session, at, "opened", detail="test")
    return sessions


def test_a_store_from_a_replay_in_june_gives_acks_its_own_time(tmp_path) -> None:
    june = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    sessions = store_with_event_at(tmp_path, june)
    with sessions() as session:
        assert stored_until(session) == june
        assert replay_instant(session, REAL_NOW) == june


def test_a_live_store_leaves_acks_on_the_real_clock(tmp_path) -> None:
    sessions = store_with_event_at(tmp_path, REAL_NOW - timedelta(minutes=5))
    with sessions() as session:
        assert replay_instant(session, REAL_NOW) is None


def test_a_drill_restarted_resumes_its_clock_from_the_store() -> None:
    from custody_watch.cli.run import resumed_clock
    from custody_watch.clock import StartedClock

    real = StartedClock(REAL_NOW, 60)
    ahead = REAL_NOW + timedelta(hours=3)  # 3 h of simulated time ran before the restart
    resumed = resumed_clock(real, ahead, 60)
    assert ahead <= resumed.now() < ahead + timedelta(minutes=1)
    assert resumed_clock(real, REAL_NOW - timedelta(hours=1), 60) is real
    assert resumed_clock(real, None, 60) is real
