"""systemd's notify protocol: READY=1 at start, WATCHDOG=1 after each tick, STOPPING=1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custody_watch.alerts import lifecycle
from custody_watch.cli.run import after_cycle
from custody_watch.clock import FixedClock
from custody_watch.config import parse_settings
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.scheduler import run_one_cycle
from custody_watch.messages.render import Renderer, sample_view
from custody_watch.service import ServiceNotifier

AT = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A datagram socket where systemd's would be, named as systemd names it."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    server.settimeout(2)
    yield server
    server.close()


def received(server: socket.socket) -> str:
    return server.recv(4096).decode()


def test_ready_watchdog_and_stopping_reach_systemds_socket(
    notify_socket: socket.socket,
) -> None:
    service = ServiceNotifier()
    assert service.active

    service.ready("watching 1 sources")
    assert received(notify_socket) == "READY=1\nSTATUS=watching 1 sources"
    service.on_cycle(AT, 0.25, True)
    status = "STATUS=cycle at 2026-06-10T09:30:00Z done in 0.2s"
    assert received(notify_socket) == f"WATCHDOG=1\n{status}"
    service.stopping()
    assert received(notify_socket).startswith("STOPPING=1\n")


def test_a_cycle_that_failed_still_pings_because_the_scheduler_is_alive(
    notify_socket: socket.socket,
) -> None:
    service = ServiceNotifier()
    service.on_cycle(AT, 1.0, False)
    assert received(notify_socket).startswith("WATCHDOG=1\nSTATUS=cycle at ")


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    service = ServiceNotifier(env={})
    assert not service.active
    service.ready("x")
    service.on_cycle(AT, 0.1, True)
    service.stopping()


def test_the_unit_is_a_watched_notify_service_with_the_hardening_operations_expect() -> None:
    unit = (Path(__file__).resolve().parents[2] / "deploy/systemd/custody-watch.service").read_text(
        encoding="utf-8"
    )
    lines = {line.strip() for line in unit.splitlines() if not line.startswith("#")}
    for setting in (
        "Type=notify",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "StateDirectory=custody-watch",
        "DynamicUser=yes",
        "Restart=on-failure",
        "Environment=CUSTODY_WATCH_SECRET_KEY_FILE=%d/secret-key",
    ):
        assert setting in lines
    assert any(line.startswith("WatchdogSec=") for line in lines)
    assert any(line.startswith("LoadCredential=secret-key:") for line in lines)


class Recorder:
    def __init__(self) -> None:
        self.states: list[str] = []

    def notify(self, state: str) -> None:
        self.states.append(state)


def test_every_scheduler_tick_feeds_the_watchdog_after_reporting_render_failures(
    tmp_path: Path,
) -> None:
    settings = parse_settings({"database": {"url": f"sqlite:///{tmp_path / 'cw.db'}"}})
    ctx = build_context(settings, FixedClock(AT), env={})
    ctx.alerts = replace(ctx.alerts, renderer=Renderer(tmp_path / "no-templates"))
    ctx.alerts.renderer.for_kind("phone", sample_view("notify"))  # a message fell back this tick
    recorder = Recorder()

    run_one_cycle(ctx, after_cycle(ctx, None, ServiceNotifier(recorder)))

    assert [state.split("\n")[0] for state in recorder.states] == ["WATCHDOG=1"]
    with ctx.sessions() as session:
        assert lifecycle.live_alert(session, "message_render_failed") is not None
    ctx.engine.dispose()
