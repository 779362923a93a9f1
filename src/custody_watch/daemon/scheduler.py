"""The thin APScheduler shell around the daemon's work: four jobs, each on its own thread,
and a clean shutdown on SIGTERM/SIGINT.

- ``poll``: read the sources that are due. A big drop file can take minutes to ingest; it
  must never stop thresholds and escalation being acted on, so polling is a job apart.
- ``tick``: evaluate, watch feeds and rota, escalate, send (``cycle.tick``), every tick,
  and brought forward to the instant the next threshold, escalation step or retry falls due
  (``daemon.wake``), so lateness is the time of one cycle, not of a tick.
- ``digest``: the daily digest, apart, so that a slow mail server never holds up a tick.
- ``retention``: once a day (and a minute after start), delete what is past its
  ``[retention]`` period (``store.retention``), in batches, with an audit row of counts.
- ``heartbeat``: renew the leases of the outbox rows (and the digest) being sent, and write
  this daemon's beat, every few seconds, so a dead daemon's claims lapse within one lease
  and a daemon that can no longer write finds out.

Each job has ``max_instances=1``: a job that overruns is not started twice, the next run is
simply late (and the overrun is logged, counted, and shown by /healthz while it lasts).

APScheduler is only a local ticker here. Every timer that matters (escalation, thresholds,
retries) lives in the database, so a restart resumes exactly where the last run stopped, and
two daemons on one database share the work instead of doubling it."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from custody_watch.daemon import cycle
from custody_watch.daemon.runtime import Context
from custody_watch.daemon.wake import Waker
from custody_watch.digest import send as digest_send
from custody_watch.liveness import JOBS
from custody_watch.store import beats, retention

log = logging.getLogger(__name__)
# The default tick, in real seconds (``[daemon] tick``). A threshold at 06:00:00 is acted on
# by 06:00:05 whatever the poll interval, because evaluation does not wait for a poll.
TICK_SECONDS = 2.0
# How often the digest job looks whether a digest is due (real seconds at --speed 1).
DIGEST_EVERY_SECONDS = 30.0
# The retention job: daily, first a minute after start (real seconds at --speed 1).
RETENTION_EVERY_SECONDS = 24 * 3600.0
RETENTION_FIRST_AFTER_SECONDS = 60.0
# Never faster than this, whatever --speed asks (real seconds).
MIN_INTERVAL = 0.2
# The soonest a wake may follow the tick before it (real seconds): instants a few
# milliseconds apart are served by one cycle, and a store with constant due work cannot spin.
WAKE_FLOOR = 0.05
# Told after every tick: (the clock when it started, real seconds it took, whether it
# finished). The web side's Heartbeat.beat, for /healthz and /metrics.
OnCycle = Callable[[datetime, float, bool], None]
# Told after every heartbeat: (the clock, whether this daemon could write its beat). The hook
# for a service manager's watchdog: a daemon whose store refuses writes is not alive.
OnHeartbeat = Callable[[datetime, bool], None]


def run_forever(
    ctx: Context,
    *,
    speed: float = 1.0,
    on_cycle: OnCycle | None = None,
    on_heartbeat: OnHeartbeat | None = None,
) -> None:
    # Leases and sends are timed by the clock at each claim and call, not by a tick's
    # start: the daemon's clock (the one ``run`` set after start-up), whatever built it.
    ctx.dispatcher.clock = ctx.clock
    take_back_own_claims(ctx)
    scheduler = BlockingScheduler(
        timezone=UTC,
        # One thread per job and a spare: no job ever waits for another's thread.
        executors={"default": ThreadPoolExecutor(max_workers=len(JOBS) + 1)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
    )
    tick, heartbeat = add_jobs(
        scheduler, ctx, speed=speed, on_cycle=on_cycle, on_heartbeat=on_heartbeat
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the jobs in hand, then stopping", signum)
        # wait=True: a job in progress finishes its transaction instead of being cut off.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "custody-watch running as %s (tick %.1fs, heartbeat %.1fs, clock speed %gx)",
        ctx.worker,
        tick,
        heartbeat,
        speed,
    )
    scheduler.start()
    ctx.engine.dispose()
    log.info("custody-watch stopped")


def add_jobs(
    scheduler: BaseScheduler,
    ctx: Context,
    *,
    speed: float = 1.0,
    on_cycle: OnCycle | None = None,
    on_heartbeat: OnHeartbeat | None = None,
) -> tuple[float, float]:
    """The four jobs, on ``scheduler``'s default executor; returns (tick, heartbeat) in real
    seconds."""
    factor = max(speed, 1.0)
    daemon = ctx.settings.daemon
    tick = max(MIN_INTERVAL, daemon.tick.total_seconds() / factor)
    # Leases are on the (possibly accelerated) clock; the heartbeat keeps pace with it.
    heartbeat = max(MIN_INTERVAL, daemon.heartbeat_every.total_seconds() / factor)
    digest = max(MIN_INTERVAL, DIGEST_EVERY_SECONDS / factor)
    first = datetime.now(UTC)  # APScheduler's own timing only: not our clock
    every = {"trigger": "interval", "next_run_time": first}
    waker = Waker(scheduler, ctx, speed=speed, tick=tick, floor=WAKE_FLOOR)
    scheduler.add_job(run_poll, args=[ctx, waker], seconds=tick, id="poll", **every)
    scheduler.add_job(run_one_cycle, args=[ctx, on_cycle, waker], seconds=tick, id="tick", **every)
    scheduler.add_job(run_digest, args=[ctx], seconds=digest, id="digest", **every)
    scheduler.add_job(
        run_heartbeat, args=[ctx, on_heartbeat], seconds=heartbeat, id="heartbeat", **every
    )
    scheduler.add_job(
        run_retention,
        args=[ctx],
        trigger="interval",
        seconds=max(MIN_INTERVAL, RETENTION_EVERY_SECONDS / factor),
        next_run_time=first + timedelta(seconds=RETENTION_FIRST_AFTER_SECONDS / factor),
        id="retention",
    )
    return tick, heartbeat


def take_back_own_claims(ctx: Context) -> None:
    """On start: whatever this worker id held when its last process died is free now (the
    worker id is stable across restarts), instead of after its lease."""
    at = ctx.clock.now()
    try:
        rows = ctx.dispatcher.release_own(at)
        with ctx.sessions.begin() as session:
            digests = digest_send.release_own(session, ctx.worker, at)
    except Exception:  # the leases lapse on their own; starting matters more
        log.exception("could not release the claims held before this start")
        return
    if rows or digests:
        log.info("released %d outbox rows and %d digests held before this start", rows, digests)


def _job(ctx: Context, name: str, work: Callable[[], object]) -> tuple[object | None, float, bool]:
    """Run one job's work, recording in ``ctx.status`` that it runs, how long it took and
    whether it failed. Never raises: the scheduler must keep ticking whatever one run hit."""
    ctx.status.job_started(name)
    try:
        result = work()
    except Exception as exc:
        log.exception("%s failed; the next run will try again", name)
        took = ctx.status.job_finished(name, error=f"{type(exc).__name__}: {exc}")
        return None, took, False
    took = ctx.status.job_finished(name)
    if name == "tick" and took > 2 * ctx.status.tick_seconds:
        log.warning("tick took %.1fs, more than two ticks (%.1fs)", took, ctx.status.tick_seconds)
    return result, took, True


def run_poll(ctx: Context, waker: Waker | None = None) -> int:
    at = ctx.clock.now()

    def poll() -> int:
        # cycle.alerting: a failing poll job is raised to operations (cycle_step_failed:poll).
        return cycle.alerting(ctx, "poll", at, lambda: cycle.poll_sources(ctx, at))

    result, _took, _ok = _job(ctx, "poll", poll)
    changed = result if isinstance(result, int) else 0
    if changed and waker is not None:
        _wake(waker.now)  # what just arrived is evaluated now, not at the next tick
    return changed


def _wake(work: Callable[[], None]) -> None:
    """A wake that fails costs at most one tick (the regular tick still runs): log it and
    never let it fail the job that asked."""
    try:
        work()
    except Exception:
        log.exception("could not bring the tick forward; it runs on its regular schedule")


def run_one_cycle(
    ctx: Context, on_cycle: OnCycle | None = None, waker: Waker | None = None
) -> cycle.CycleReport | None:
    """One tick: this daemon's beat (a store that refuses writes fails the tick at once),
    then evaluation, feeds, rota, escalation and sending; then, with a ``waker``, the next
    tick brought forward to the first instant anything falls due."""
    at = ctx.clock.now()

    def work() -> cycle.CycleReport:
        write_beat(ctx, at)
        # Evaluation gets a bounded share of real time, so that a big feed being stored
        # meanwhile never holds escalation and sending back (the rest waits a tick).
        # Half a tick for evaluation and a tick for sending (daemon.compose) keep a busy tick
        # inside /healthz's rule of two ticks.
        budget = ctx.settings.daemon.tick.total_seconds() / 2
        report = cycle.tick(ctx, at, evaluate_budget=budget)
        if report.failed:
            # Every step ran (each is guarded in cycle.tick); the tick still counts as
            # failed, so that /healthz and /metrics see a step failing every tick.
            raise cycle.StepsFailed(report)
        return report

    result, took, ok = _job(ctx, "tick", work)
    if on_cycle is not None:
        on_cycle(at, took, ok)
    if waker is not None:
        _wake(lambda: waker.after_tick(at))
    report = result if isinstance(result, cycle.CycleReport) else None
    if report is not None and (report.sent or report.escalated):
        log.info(
            "tick: %d evaluated, %d escalated, %d sent",
            report.evaluated,
            report.escalated,
            report.sent,
        )
    return report


def run_digest(ctx: Context) -> None:
    at = ctx.clock.now()
    _job(
        ctx,
        "digest",
        # cycle.alerting: a digest job that raises is told to operations as well as logged.
        lambda: cycle.alerting(
            ctx,
            "digest",
            at,
            lambda: digest_send.send_due_digest(
                ctx.sessions,
                ctx.settings,
                ctx.dispatcher.channels,
                ctx.worker,
                at,
                policy=ctx.policy,
                lease=ctx.settings.daemon.lease,
                clock=ctx.clock,
            ),
        ),
    )


def run_retention(ctx: Context) -> None:
    at = ctx.clock.now()
    periods = retention.Periods.of(ctx.settings.retention)
    _job(
        ctx,
        "retention",
        lambda: cycle.alerting(
            ctx,
            "retention",
            at,
            lambda: retention.run(ctx.sessions, periods, at, actor=ctx.worker),
        ),
    )


def run_heartbeat(ctx: Context, on_heartbeat: OnHeartbeat | None = None) -> bool:
    """Renew what is being sent, then write the beat."""
    at = ctx.clock.now()

    def work() -> None:
        lease = ctx.settings.daemon.lease
        ctx.dispatcher.renew(at)
        if "digest" in ctx.status.read().running:
            with ctx.sessions.begin() as session:
                digest_send.renew_claims(session, ctx.worker, at, lease)
        write_beat(ctx, at)

    _result, _took, ok = _job(ctx, "heartbeat", work)
    if on_heartbeat is not None:
        on_heartbeat(at, ok)
    return ok


def write_beat(ctx: Context, at: datetime) -> None:
    with ctx.sessions.begin() as session:
        beats.beat(session, ctx.worker, at)
    ctx.status.wrote()
