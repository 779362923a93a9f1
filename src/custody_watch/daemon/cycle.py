"""One cycle of the daemon, as plain functions the scheduler calls.

1. Poll the sources that are due (all of them for ``--once``).
2. Evaluate detentions that changed or reached a threshold.
3. Watch the feeds (``feed_stale``).
4. Move alerts along their ladders.
5. Send what is due from the outbox.

Each step runs on its own (``guarded``): a step that fails is logged with its name and
raised to operations as ``cycle_step_failed:<step>``, and the steps after it still run, so
a broken digest or feed watch never stops escalation and sending. Within a step, each
source, role and alert is handled on its own too: one that fails is logged and the rest go
on, and the step then counts as failed. The alert clears when the step next succeeds. When
the database itself is down, raising the alert fails too: that is logged, and the next
step still runs (sending may still work from what was claimed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar, cast

from custody_watch.alerts import escalate, lifecycle, system
from custody_watch.alerts.deps import OPERATIONS
from custody_watch.alerts.effects import carry_out
from custody_watch.config.model import Source as SourceSettings
from custody_watch.daemon.compose import escalation_roles
from custody_watch.daemon.evaluate import evaluate_due
from custody_watch.daemon.poll import poll_source
from custody_watch.daemon.runtime import Context
from custody_watch.digest.send import send_due_digest
from custody_watch.domain import Severity
from custody_watch.sources.freshness import Status, freshness
from custody_watch.store import sources as source_store
from custody_watch.store.schema import AlertRow

log = logging.getLogger(__name__)
T = TypeVar("T")
STEP_FAILED = "cycle_step_failed"
# Steps whose failure can leave a child without an alert or a page: the duty inspector is
# told too, as for feed_stale. The others (polling has its own feed_stale, the digest) go
# to operations alone.
CHILD_SAFETY_STEPS = frozenset({"evaluate", "escalate", "dispatch"})


@dataclass(frozen=True, slots=True)
class CycleReport:
    changed: int
    evaluated: int
    escalated: int
    sent: int
    # The steps that failed (each logged and raised to operations); empty when all ran.
    failed: tuple[str, ...] = ()


class StepIncomplete(Exception):
    """Some items of a step (sources, roles, alerts) failed; the rest were done.
    ``partial`` is the step's result for what was done (a count), when it has one."""

    partial: object = None


class StepsFailed(Exception):
    """Raised by a caller that must report a cycle whose steps all ran but some failed
    (the scheduler, so that /healthz sees it); ``report`` is what the cycle did."""

    def __init__(self, report: CycleReport) -> None:
        super().__init__(f"cycle steps failed: {', '.join(report.failed)}")
        self.report = report


def run_cycle(ctx: Context, now: datetime, *, poll_all: bool = False) -> CycleReport:
    failed: list[str] = []
    changed = guarded(
        ctx, "poll", now, lambda: poll_sources(ctx, now, poll_all=poll_all), 0, failed
    )
    report = tick(ctx, now)
    # The running daemon sends the digest from its own job (daemon.scheduler), so that a
    # slow mail server never holds up a tick; one cycle (``run --once``) sends it here.
    if not send_digest(ctx, now):
        failed.append("digest")
    return replace(report, changed=changed, failed=(*failed, *report.failed))


def tick(ctx: Context, now: datetime, *, evaluate_budget: float | None = None) -> CycleReport:
    """Everything but polling and the digest (steps 2-5), each step on its own.
    ``evaluate_budget``: real seconds evaluation may take before escalation and sending get
    their turn (the running daemon's ticks; ``run --once`` evaluates everything)."""
    failed: list[str] = []
    evaluated = guarded(
        ctx,
        "evaluate",
        now,
        lambda: evaluate_due(ctx, now, budget_seconds=evaluate_budget),
        0,
        failed,
    )
    guarded(ctx, "feed_watch", now, lambda: watch_feeds(ctx, now), None, failed)
    guarded(ctx, "rota_watch", now, lambda: watch_rota(ctx, now), None, failed)
    escalated = guarded(ctx, "escalate", now, lambda: escalate_due(ctx, now), 0, failed)
    sent = guarded(ctx, "dispatch", now, lambda: ctx.dispatcher.run(now), 0, failed)
    return CycleReport(0, evaluated, escalated, sent, tuple(failed))


def send_digest(ctx: Context, now: datetime) -> bool:
    """The daily digest: once a day across every daemon (claimed in the digests table).
    False when it failed (logged and raised to operations; the next cycle tries again)."""
    failed: list[str] = []
    guarded(
        ctx,
        "digest",
        now,
        lambda: send_due_digest(
            ctx.sessions, ctx.settings, ctx.dispatcher.channels, ctx.worker, now, policy=ctx.policy
        ),
        None,
        failed,
    )
    return not failed


def guarded(
    ctx: Context,
    step: str,
    now: datetime,
    work: Callable[[], T],
    fallback: T,
    failed: list[str] | None = None,
) -> T:
    """Run one step of the cycle; never raises. A failure is logged with the step's name,
    added to ``failed`` and raised to operations as ``cycle_step_failed:<step>``, which
    clears when the step next succeeds; ``fallback`` stands in for its result."""
    try:
        return alerting(ctx, step, now, work)
    except Exception as exc:
        log.exception("cycle step %s failed; the steps after it still run", step)
        if failed is not None:
            failed.append(step)
        if isinstance(exc, StepIncomplete) and exc.partial is not None:
            return cast(T, exc.partial)
        return fallback


def alerting(ctx: Context, step: str, now: datetime, work: Callable[[], T]) -> T:
    """Run one step, raising ``cycle_step_failed:<step>`` to operations when it fails (and
    then re-raising) and clearing it when it succeeds. For a job that reports failures
    itself (the scheduler's poll and digest jobs); ``guarded`` for one that must not raise."""
    try:
        result = work()
    except Exception as exc:
        ctx.steps_known_clear.discard(step)
        _raise_step_failed(ctx, step, exc, now)
        raise
    if step not in ctx.steps_known_clear:
        _clear_step_failed(ctx, step, now)
    return result


def _raise_step_failed(ctx: Context, step: str, exc: Exception, now: datetime) -> None:
    lines = str(exc).strip().splitlines()
    error = f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__
    try:
        problem = system.Problem(
            key=f"{STEP_FAILED}:{step}",
            rule=STEP_FAILED,
            severity=Severity.HIGH,
            since=now,
            summary=f"custody-watch cannot complete its {step.replace('_', ' ')} step",
            detail=f"{step} failed: {error}; the other steps still run",
            with_inspector=step in CHILD_SAFETY_STEPS,
        )
        with ctx.sessions.begin() as session:
            raised = system.raise_system(session, problem, ctx.alerts, now)
            carry_out(session, raised, ctx.alerts, now)
    except Exception:
        # Most likely the database is down: nothing can be recorded, the log must do.
        log.exception("cycle step %s failed and the alert about it could not be raised", step)


def _clear_step_failed(ctx: Context, step: str, now: datetime) -> None:
    """Checked once after start (a previous run may have left the alert) and after each
    failure, not on every tick: a tick must stay cheap."""
    key = f"{STEP_FAILED}:{step}"
    try:
        with ctx.sessions.begin() as session:
            if lifecycle.live_alert(session, key) is not None:
                cleared = system.clear_system(
                    session, key, ctx.alerts, now, f"the {step} step ran again"
                )
                carry_out(session, cleared, ctx.alerts, now)
    except Exception:
        log.exception("the %s alert could not be cleared; trying again next time", key)
        return
    ctx.steps_known_clear.add(step)


def each(
    items: list[T] | tuple[T, ...], what: Callable[[T], str], work: Callable[[T], None]
) -> None:
    """``work`` for every item on its own: one that fails is logged and the rest still run;
    then raises ``StepIncomplete`` naming the failures, so the step counts as failed."""
    failures: list[str] = []
    for item in items:
        try:
            work(item)
        except Exception as exc:
            log.exception("%s failed", what(item))
            message = (str(exc).strip().splitlines() or [""])[0][:80]
            failures.append(f"{what(item)}: {type(exc).__name__}: {message}".rstrip(": "))
    if failures:
        shown = "; ".join(failures[:3]) + (
            f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        )
        raise StepIncomplete(f"{len(failures)} of {len(items)} failed ({shown})")


def poll_sources(ctx: Context, now: datetime, *, poll_all: bool = False) -> int:
    """Poll each due source; ``poll_source`` records a failing source and never raises, and
    a source that fails any other way still leaves the others polled."""
    changed = 0
    due = []
    for settings in ctx.settings.sources:
        last = ctx.last_polled.get(settings.name)
        if not poll_all and isinstance(last, datetime) and now - last < settings.poll_every:
            continue
        ctx.last_polled[settings.name] = now
        due.append(settings)

    def poll(settings: SourceSettings) -> None:
        nonlocal changed
        changed += poll_source(
            ctx.sessions,
            ctx.sources[settings.name],
            settings.kind,
            settings.naive_timezone,
            ctx.policy,
            now,
        )

    try:
        each(due, lambda s: f"polling source {s.name}", poll)
    except StepIncomplete as exc:
        exc.partial = changed  # what the other sources stored still counts
        raise
    return changed


def watch_feeds(ctx: Context, now: datetime) -> None:
    """``feed_stale``: nothing new and no successful poll for ``stale_after``; or, where a
    source sets ``expect_data_within``, no new records for that long however it answers."""
    each(
        list(ctx.settings.sources),
        lambda s: f"watching source {s.name}",
        lambda s: _watch_feed(ctx, s, now),
    )


def _watch_feed(ctx: Context, settings: SourceSettings, now: datetime) -> None:
    with ctx.sessions.begin() as session:
        state = source_store.state(session, settings.name, settings.kind)
        fresh = freshness(state, settings, now)
        if fresh.status is Status.NEVER_POLLED:
            return  # never polled yet: nothing to judge
        stale = fresh.stale
        # While fresh, the instant passed along is the last sign of life (unused by a clear).
        silent_since = fresh.since or fresh.last_heard or state.first_poll_at or now
        watched = system.feed_stale(session, settings.name, silent_since, stale, ctx.alerts, now)
        carry_out(session, watched, ctx.alerts, now)


def watch_rota(ctx: Context, now: datetime) -> None:
    """A role that an escalation needs, held by nobody now, is an alert to operations before
    any child needs it, and clears when the rota is filled."""
    roles = sorted(escalation_roles(ctx.settings) | {OPERATIONS})
    each(roles, lambda role: f"watching the rota for {role}", lambda r: _watch_role(ctx, r, now))


def _watch_role(ctx: Context, role: str, now: datetime) -> None:
    covered = bool(ctx.alerts.directory.rota.on_call(role, now))
    with ctx.sessions.begin() as session:
        watched = system.nobody_on_call(session, role, ctx.alerts, now, covered=covered)
        carry_out(session, watched, ctx.alerts, now)


def escalate_due(ctx: Context, now: datetime) -> int:
    """Move each due alert along its ladder, each in its own transaction: one alert whose
    escalation fails (logged, and the step reported failed) never holds back the others."""
    with ctx.sessions() as session:
        ids = [alert.id for alert in escalate.due_alerts(session, now)]

    def move(alert_id: int) -> None:
        with ctx.sessions.begin() as session:
            # Re-read, as an ack may have just landed, and claimed: on PostgreSQL the row is
            # locked and an alert another daemon is moving is left to it (None here). Without
            # the lock two daemons took the same step at once and the loser's page broke the
            # outbox's unique key: no second message, but a failed step that paged operations.
            alert = session.get(AlertRow, alert_id, with_for_update={"skip_locked": True})
            if alert is not None:
                moved = escalate.escalate(session, alert, ctx.alerts, now)
                carry_out(session, moved, ctx.alerts, now)

    try:
        each(ids, lambda alert_id: f"escalating alert {alert_id}", move)
    except StepIncomplete as exc:
        exc.partial = len(ids)
        raise
    return len(ids)
