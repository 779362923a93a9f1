"""The thin APScheduler shell around ``cycle``: one job, clean shutdown on SIGTERM/SIGINT.

APScheduler is only a local ticker here. Every timer that matters (escalation, thresholds,
retries) lives in the database, so a restart resumes exactly where the last run stopped, and
two daemons on one database share the work instead of doubling it."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from custody_watch.daemon import cycle
from custody_watch.daemon.context import Context

log = logging.getLogger(__name__)
# How often the cycle runs, in real seconds. A threshold at 06:00:00 is acted on by 06:00:05
# whatever the poll interval, because evaluation does not wait for a poll.
TICK_SECONDS = 2.0
# Told after every cycle: (the clock when it started, real seconds it took, whether it
# finished). The web side's Heartbeat.beat, for /healthz and /metrics.
OnCycle = Callable[[datetime, float, bool], None]


def run_forever(ctx: Context, *, speed: float = 1.0, on_cycle: OnCycle | None = None) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    interval = max(0.2, TICK_SECONDS / max(speed, 1.0))
    scheduler.add_job(
        run_one_cycle,
        "interval",
        args=[ctx, on_cycle],
        seconds=interval,
        id="cycle",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=30,
        next_run_time=datetime.now(UTC),  # APScheduler's own timing only: not our clock
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the current cycle, then stopping", signum)
        # wait=True: a cycle in progress finishes its transaction instead of being cut off.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("custody-watch running (tick %.1fs, clock speed %gx)", interval, speed)
    scheduler.start()
    ctx.engine.dispose()
    log.info("custody-watch stopped")


def run_one_cycle(ctx: Context, on_cycle: OnCycle | None = None) -> cycle.CycleReport | None:
    at = ctx.clock.now()
    started = time.monotonic()
    try:
        report = cycle.run_cycle(ctx, at)
    except Exception:  # the scheduler must keep ticking whatever one cycle hit
        log.exception("cycle failed; the next tick will try again")
        if on_cycle is not None:
            on_cycle(at, time.monotonic() - started, False)
        return None
    if on_cycle is not None:
        on_cycle(at, time.monotonic() - started, True)
    if report.changed or report.sent or report.escalated:
        log.info(
            "cycle: %d changed, %d evaluated, %d escalated, %d sent",
            report.changed,
            report.evaluated,
            report.escalated,
            report.sent,
        )
    return report
