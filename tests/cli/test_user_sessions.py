"""``custody-watch user passwd``, ``user disable`` and ``user end-sessions`` end web sessions
at once. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.cli import main
from custody_watch.config import read_settings
from custody_watch.store import web_sessions
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AuditRow, WebSessionRow
from custody_watch.store.users import create_user

CONFIG = """
[database]
url = "{url}"
"""
PASSWORD = "a long enough password"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cw.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    path = tmp_path / "cw.toml"
    path.write_text(CONFIG.format(url=url), encoding="utf-8")
    yield path


@pytest.fixture
def store(config: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(read_settings(config).database.url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        for name in ("alice", "bob"):
            create_user(session, name, PASSWORD, "inspector", None, now)
            for _ in range(2):
                web_sessions.create(session, name, now, timedelta(hours=12))
    yield sessions
    engine.dispose()


def cli(config: Path, *args: str, stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        main([*args, "--config", str(config)])
        return 0
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        sys.stdin = old


def open_sessions(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        rows = session.scalars(select(WebSessionRow).where(WebSessionRow.ended_at.is_(None)))
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.username] = counts.get(row.username, 0) + 1
        return counts


def test_a_new_password_ends_that_users_sessions(
    config: Path, store: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli(config, "user", "passwd", "alice", "--password-stdin", stdin="another password\n") == 0
    )
    assert "password set for alice; 2 sessions ended" in capsys.readouterr().out
    assert open_sessions(store) == {"bob": 2}


def test_disabling_ends_that_users_sessions(
    config: Path, store: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(config, "user", "disable", "bob") == 0
    assert "user bob disabled; 2 sessions ended" in capsys.readouterr().out
    assert open_sessions(store) == {"alice": 2}


def test_end_sessions_for_one_user_or_all(
    config: Path, store: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(config, "user", "end-sessions", "alice") == 0
    assert "2 sessions ended (alice)" in capsys.readouterr().out
    assert open_sessions(store) == {"bob": 2}
    assert cli(config, "user", "end-sessions", "--all") == 0
    assert "2 sessions ended (all users)" in capsys.readouterr().out
    assert open_sessions(store) == {}
    with store() as session:
        details = session.scalars(
            select(AuditRow.detail).where(AuditRow.event == "sessions_ended").order_by(AuditRow.id)
        ).all()
    assert details == ["alice: 2 sessions ended", "all users: 2 sessions ended"]


@pytest.mark.parametrize(
    "args", [(), ("alice", "--all"), ("nobody",)], ids=["neither", "both", "unknown"]
)
def test_end_sessions_needs_one_known_user_or_all(
    config: Path,
    store: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    assert cli(config, "user", "end-sessions", *args) == 2
    assert open_sessions(store) == {"alice": 2, "bob": 2}
