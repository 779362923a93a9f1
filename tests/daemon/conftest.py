"""Fixtures for daemon tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.fixtures import fake_smtp, fake_twilio

from .support import CONFIG, Daemon

__all__ = ["fake_smtp", "fake_twilio", "make_daemon"]


@pytest.fixture
def make_daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Daemon]:
    def make(database: str | None = None, config_text: str = CONFIG, **fields: object) -> Daemon:
        monkeypatch.delenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN", raising=False)
        inbox = tmp_path / "inbox"
        inbox.mkdir(exist_ok=True)
        url = database or f"sqlite:///{tmp_path / 'cw.db'}"
        config = tmp_path / "custody-watch.toml"
        config.write_text(config_text.format(database=url, inbox=inbox, **fields), encoding="utf-8")
        return Daemon(config, inbox, capsys)

    return make
