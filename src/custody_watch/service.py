"""systemd's notification protocol for ``Type=notify`` units, through ``sdnotify``.

READY=1 once the daemon is built (migrations applied, web side listening); WATCHDOG=1
after every tick the scheduler finishes, so a daemon whose scheduler hangs stops pinging
and systemd restarts it after ``WatchdogSec``; STOPPING=1 on the way out. Outside systemd
(no ``$NOTIFY_SOCKET``) every call does nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

import sdnotify

from custody_watch.times import utc_z

NOTIFY_SOCKET = "NOTIFY_SOCKET"


class Notifier(Protocol):
    def notify(self, state: str) -> None: ...


class ServiceNotifier:
    def __init__(
        self, notifier: Notifier | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        env = os.environ if env is None else env
        if notifier is None and env.get(NOTIFY_SOCKET):
            notifier = sdnotify.SystemdNotifier()
        self._notifier = notifier

    @property
    def active(self) -> bool:
        return self._notifier is not None

    def _send(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def on_cycle(self, at: datetime, seconds: float, finished: bool) -> None:
        """The scheduler's ``on_cycle``. A cycle that raised still pings: the scheduler is
        alive and tries again next tick (the failure shows on /healthz and in the log); only
        a scheduler that stops ticking should be restarted."""
        outcome = "done" if finished else "FAILED"
        self._send(f"WATCHDOG=1\nSTATUS=cycle at {utc_z(at)} {outcome} in {seconds:.1f}s")

    def stopping(self) -> None:
        self._send("STOPPING=1\nSTATUS=finishing the current cycle")
