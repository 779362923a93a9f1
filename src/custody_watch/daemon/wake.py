"""Waking the tick at the instant something becomes due, not only on the fixed tick.

The rules already say when a detention can next change (``next_check_at``), escalation when
an alert next steps (``next_action_at``) and the outbox when a retry is due (``due_at``).
After each tick the daemon asks the store for the earliest of these and, when it falls before
the next regular tick, brings the tick forward to it, so a threshold at 06:00:00 is acted on
within the time of one cycle rather than up to a whole tick later. The fixed tick stays as the
safety net: a wake that is lost (a crash, a job still running) costs at most one tick.

``next_wake`` is pure (instants in, a delay out), so the benchmark simulates exactly the
schedule the daemon keeps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler

from custody_watch.daemon.runtime import Context
from custody_watch.store import due

log = logging.getLogger(__name__)


def next_wake(
    due_at: datetime | None, now: datetime, *, speed: float, tick: float, floor: float
) -> float | None:
    """Real seconds from now until the tick should run for ``due_at`` (on the custody clock,
    which runs ``speed`` times real time), or None when the regular tick, ``tick`` real
    seconds away at most, comes first anyway. Never sooner than ``floor`` seconds: a burst
    of instants a few milliseconds apart is served by one cycle."""
    if due_at is None:
        return None
    delay = max(floor, (due_at - now).total_seconds() / speed)
    return delay if delay < tick else None


class Waker:
    """Brings the scheduler's ``tick`` job forward. Called from the job threads."""

    def __init__(
        self, scheduler: BaseScheduler, ctx: Context, *, speed: float, tick: float, floor: float
    ) -> None:
        self.scheduler = scheduler
        self.ctx = ctx
        self.speed = speed
        self.tick = tick
        self.floor = floor

    def after_tick(self, started_at: datetime) -> None:
        """After a tick that started at ``started_at`` (custody clock): wake for the first
        thing due after it."""
        with self.ctx.sessions() as session:
            due_at = due.earliest_after(session, started_at)
        delay = next_wake(
            due_at, self.ctx.clock.now(), speed=self.speed, tick=self.tick, floor=self.floor
        )
        if delay is not None:
            self._bring_forward(delay)

    def now(self) -> None:
        """New data were stored: evaluate them at once (unless a tick is running, which will
        find them due when it asks after it ends)."""
        if "tick" not in self.ctx.status.read().running:
            self._bring_forward(self.floor)

    def _bring_forward(self, delay: float) -> None:
        at = datetime.now(UTC) + timedelta(seconds=delay)  # APScheduler's timing, not ours
        try:
            job = self.scheduler.get_job("tick")
            if job is None or (job.next_run_time is not None and job.next_run_time <= at):
                return
            job.modify(next_run_time=at)
        except JobLookupError:  # shutting down
            return
