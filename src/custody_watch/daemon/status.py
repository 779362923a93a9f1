"""What the daemon's jobs are doing, for /healthz and /metrics: which job is running and
since when, when the store last took a write, how often a job overran or failed.

The scheduler's jobs (poll, tick, digest, heartbeat) run on their own threads and the web
server reads from another, hence the lock. Ages are real seconds on a monotonic clock,
whatever ``--now``/``--speed`` say: they measure the process, not the custody clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from custody_watch.dispatch.channel_health import ChannelHealth

# The scheduler's jobs (see daemon.scheduler).
JOBS = ("poll", "tick", "digest", "heartbeat")


@dataclass(frozen=True, slots=True)
class StatusView:
    tick_seconds: float
    running: dict[str, float]  # job name -> seconds it has been running
    write_age: float | None  # seconds since the store last took a write; None: never yet
    since_start: float
    overruns: dict[str, int]
    failures: dict[str, int]
    last_error: dict[str, str]


@dataclass
class DaemonStatus:
    tick_seconds: float
    channels: ChannelHealth = field(default_factory=ChannelHealth)
    monotonic: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _started: float = field(default=0.0, init=False)
    _running: dict[str, float] = field(default_factory=dict, init=False)
    _wrote_at: float | None = field(default=None, init=False)
    _overruns: dict[str, int] = field(default_factory=dict, init=False)
    _failures: dict[str, int] = field(default_factory=dict, init=False)
    _last_error: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._started = self.monotonic()

    def job_started(self, name: str) -> None:
        with self._lock:
            self._running[name] = self.monotonic()

    def job_finished(self, name: str, error: str | None = None) -> float:
        """Returns how long the job ran; a tick that took more than two ticks counts as an
        overrun (it is logged by the scheduler too)."""
        with self._lock:
            began = self._running.pop(name, self.monotonic())
            took = self.monotonic() - began
            if took > 2 * self.tick_seconds:
                self._overruns[name] = self._overruns.get(name, 0) + 1
            if error is not None:
                self._failures[name] = self._failures.get(name, 0) + 1
                self._last_error[name] = error
            return took

    def wrote(self) -> None:
        """The store took a write (the tick's and the heartbeat's beat, at least)."""
        with self._lock:
            self._wrote_at = self.monotonic()

    def read(self) -> StatusView:
        with self._lock:
            now = self.monotonic()
            return StatusView(
                tick_seconds=self.tick_seconds,
                running={name: now - began for name, began in self._running.items()},
                write_age=None if self._wrote_at is None else now - self._wrote_at,
                since_start=now - self._started,
                overruns=dict(self._overruns),
                failures=dict(self._failures),
                last_error=dict(self._last_error),
            )
