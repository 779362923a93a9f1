"""How alive this daemon is, for /healthz and /metrics: what the scheduler's jobs are doing
(``DaemonStatus``: which job runs and since when, when the store last took a write, how often
a job overran or failed) and when its last cycle ended (``Heartbeat``).

Written by the scheduler (``daemon``), read by the web side: its own module so that neither
imports the other. The jobs run on their own threads and the web server reads from another,
hence the locks. Ages are real seconds on a monotonic clock, whatever ``--now``/``--speed``
say: they measure the process, not the custody clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from custody_watch.dispatch.channel_health import ChannelHealth
from custody_watch.redact import redact_urls

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


# A scheduler silent for this long (real seconds) is taken for dead. It ticks every 2 s.
HEARTBEAT_STALE_SECONDS = 120.0
# Before the first write, after start-up (migrations done), this daemon has this long more
# than two ticks to make one.
FIRST_WRITE_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class Beat:
    last_at: datetime | None  # the daemon's clock when the last cycle started
    last_duration: float | None  # seconds
    last_ok: bool
    cycles: int
    failures: int
    duration_sum: float
    age: float | None  # real seconds since the last cycle ended; None before the first
    since_start: float


class Heartbeat:
    """The scheduler calls ``beat`` after each cycle; health and metrics read ``read``.

    Shared between the scheduler's thread and the web server's, hence the lock. Ages are
    measured on a monotonic clock (real time), whatever ``--now``/``--speed`` say."""

    def __init__(
        self,
        *,
        stale_after: float = HEARTBEAT_STALE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        daemon: DaemonStatus | None = None,
    ) -> None:
        self.stale_after = stale_after
        # The daemon's jobs, store writes and channels; None for a bare heartbeat (tests).
        self.daemon = daemon
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._started = monotonic()
        self._beat_at: float | None = None
        self._last_at: datetime | None = None
        self._last_duration: float | None = None
        self._last_ok = True
        self._cycles = 0
        self._failures = 0
        self._duration_sum = 0.0

    def beat(self, at: datetime, duration: float, ok: bool = True) -> None:
        with self._lock:
            self._beat_at = self._monotonic()
            self._last_at = at
            self._last_duration = duration
            self._last_ok = ok
            self._cycles += 1
            self._failures += 0 if ok else 1
            self._duration_sum += duration

    def read(self) -> Beat:
        with self._lock:
            now = self._monotonic()
            return Beat(
                last_at=self._last_at,
                last_duration=self._last_duration,
                last_ok=self._last_ok,
                cycles=self._cycles,
                failures=self._failures,
                duration_sum=self._duration_sum,
                age=None if self._beat_at is None else now - self._beat_at,
                since_start=now - self._started,
            )

    def problem(self) -> str | None:
        beat = self.read()
        if beat.age is None:
            if beat.since_start > self.stale_after:
                return f"scheduler: no cycle has finished in {beat.since_start:.0f}s since start"
            return None
        if beat.age > self.stale_after:
            return f"scheduler: the last cycle finished {beat.age:.0f}s ago"
        if not beat.last_ok:
            return "scheduler: the last cycle failed (see the daemon's log)"
        return None

    def daemon_problems(self, failures_unhealthy: int) -> list[str]:
        """The daemon's own trouble: a tick hung, a store that takes no writes, a channel
        that fails every try."""
        if self.daemon is None:
            return []
        view = self.daemon.read()
        two_ticks = 2 * view.tick_seconds
        problems = []
        running = view.running.get("tick")
        if running is not None and running > two_ticks:
            problems.append(
                f"scheduler: a tick has been running for {running:.0f}s "
                f"(more than two ticks, {two_ticks:.0f}s)"
            )
        if view.write_age is None:
            if view.since_start > two_ticks + FIRST_WRITE_GRACE:
                problems.append(
                    f"store: no write has succeeded in {view.since_start:.0f}s since start"
                )
        elif view.write_age > two_ticks:
            problems.append(
                f"store: the last successful write was {view.write_age:.0f}s ago "
                f"(more than two ticks, {two_ticks:.0f}s)"
                + (f"; last error: {view.last_error['tick']}" if "tick" in view.last_error else "")
            )
        for name, state in sorted(self.daemon.channels.read().items()):
            if state.consecutive_failures >= failures_unhealthy:
                problems.append(
                    f"channel {name}: the last {state.consecutive_failures} tries failed "
                    f"({redact_urls(state.last_error or '')})"
                )
        return problems
