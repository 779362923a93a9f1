"""How each channel's recent provider calls went, for /healthz and /metrics.

Kept in memory by this daemon's dispatcher: it is this daemon's view of the providers (the
health check is per process). Shared between the tick's thread and the web server's, hence
the lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChannelState:
    consecutive_failures: int = 0
    last_ok_at: datetime | None = None
    last_failed_at: datetime | None = None
    last_error: str | None = None
    sent: int = 0
    failed: int = 0


class ChannelHealth:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ChannelState] = {}

    def ok(self, channel: str, at: datetime) -> None:
        with self._lock:
            state = self._states.get(channel, ChannelState())
            self._states[channel] = ChannelState(
                consecutive_failures=0,
                last_ok_at=at,
                last_failed_at=state.last_failed_at,
                last_error=state.last_error,
                sent=state.sent + 1,
                failed=state.failed,
            )

    def failed(self, channel: str, at: datetime, error: str) -> None:
        with self._lock:
            state = self._states.get(channel, ChannelState())
            self._states[channel] = ChannelState(
                consecutive_failures=state.consecutive_failures + 1,
                last_ok_at=state.last_ok_at,
                last_failed_at=at,
                last_error=error,
                sent=state.sent,
                failed=state.failed + 1,
            )

    def read(self) -> dict[str, ChannelState]:
        with self._lock:
            return dict(self._states)
