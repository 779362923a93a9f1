"""Fixtures for daemon tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .support import CONFIG, Daemon


@pytest.fixture
def make_daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Daemon]:
    def make(database: str | None = None) -> Daemon:
        monkeypatch.delenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN", raising=False)
        inbox = tmp_path / "inbox"
        inbox.mkdir(exist_ok=True)
        url = database or f"sqlite:///{tmp_path / 'cw.db'}"
        config = tmp_path / "custody-watch.toml"
        config.write_text(CONFIG.format(database=url, inbox=inbox), encoding="utf-8")
        return Daemon(config, inbox, capsys)

    return make
