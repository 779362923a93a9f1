"""One cycle of the daemon, as plain functions the scheduler calls.

1. Poll the sources that are due (all of them for ``--once``).
2. Evaluate detentions that changed or reached a threshold.
3. Watch the feeds (``feed_stale``).
4. Move alerts along their ladders.
5. Send what is due from the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from custody_watch.alerts import escalate, lifecycle, system
from custody_watch.alerts.context import OPERATIONS
from custody_watch.daemon.build import escalation_roles
from custody_watch.daemon.context import Context
from custody_watch.daemon.evaluate import evaluate_due
from custody_watch.daemon.poll import poll_source
from custody_watch.digest.send import send_due_digest
from custody_watch.domain import Severity
from custody_watch.store import sources as source_store
from custody_watch.store.schema import AlertRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CycleReport:
    changed: int
    evaluated: int
    escalated: int
    sent: int


def run_cycle(ctx: Context, now: datetime, *, poll_all: bool = False) -> CycleReport:
    changed = poll_sources(ctx, now, poll_all=poll_all)
    report = replace(tick(ctx, now), changed=changed)
    # The running daemon sends the digest from its own job (daemon.scheduler), so that a
    # slow mail server never holds up a tick; one cycle (``run --once``) sends it here.
    send_digest(ctx, now)
    return report


def tick(ctx: Context, now: datetime) -> CycleReport:
    """Everything but polling and the digest (steps 2-5)."""
    evaluated = evaluate_due(ctx, now)
    watch_feeds(ctx, now)
    watch_rota(ctx, now)
    escalated = escalate_due(ctx, now)
    sent = ctx.dispatcher.run(now)
    return CycleReport(0, evaluated, escalated, sent)


def send_digest(ctx: Context, now: datetime) -> None:
    """The daily digest: once a day across every daemon (claimed in the digests table)."""
    try:
        send_due_digest(
            ctx.sessions, ctx.settings, ctx.dispatcher.channels, ctx.worker, now, policy=ctx.policy
        )
    except Exception:  # a digest problem must never stop alerting
        log.exception("daily digest failed; the next cycle will try again")


def poll_sources(ctx: Context, now: datetime, *, poll_all: bool = False) -> int:
    changed = 0
    for settings in ctx.settings.sources:
        last = ctx.last_polled.get(settings.name)
        if not poll_all and isinstance(last, datetime) and now - last < settings.poll_every:
            continue
        ctx.last_polled[settings.name] = now
        changed += poll_source(
            ctx.sessions,
            ctx.sources[settings.name],
            settings.kind,
            settings.naive_timezone,
            ctx.policy,
            now,
        )
    return changed


def watch_feeds(ctx: Context, now: datetime) -> None:
    """``feed_stale``: nothing new and no successful poll for ``stale_after``; or, where a
    source sets ``expect_data_within``, no new records for that long however it answers."""
    for settings in ctx.settings.sources:
        with ctx.sessions.begin() as session:
            state = source_store.state(session, settings.name, settings.kind)
            heard = [t for t in (state.last_success_at, state.last_data_at) if t is not None]
            silent_since = max(heard) if heard else state.first_poll_at
            if silent_since is None:
                continue  # never polled yet: nothing to judge
            stale = now - silent_since >= settings.stale_after
            no_data_since = state.last_data_at or state.first_poll_at
            if (
                not stale
                and settings.expect_data_within is not None
                and no_data_since is not None
                and now - no_data_since >= settings.expect_data_within
            ):
                stale, silent_since = True, no_data_since
            system.feed_stale(
                session, settings.name, silent_since, stale, ctx.alert_ctx, ctx.renderer, now
            )


def watch_rota(ctx: Context, now: datetime) -> None:
    """A role that an escalation needs, held by nobody now, is an alert to operations before
    any child needs it, and clears when the rota is filled."""
    rota = ctx.alert_ctx.directory.rota
    for role in sorted(escalation_roles(ctx.settings) | {OPERATIONS}):
        key = f"nobody_on_call:{role}"
        with ctx.sessions.begin() as session:
            if rota.on_call(role, now):
                if lifecycle.live_alert(session, key) is not None:
                    system.clear_system(
                        session, key, ctx.alert_ctx, ctx.renderer, now, f"{role} is covered again"
                    )
                continue
            system.raise_system(
                session,
                key=key,
                rule="nobody_on_call",
                severity=Severity.HIGH,
                since=now,
                summary=f"nobody is on call as {role}",
                ctx=ctx.alert_ctx,
                renderer=ctx.renderer,
                now=now,
            )


def escalate_due(ctx: Context, now: datetime) -> int:
    with ctx.sessions() as session:
        ids = [alert.id for alert in escalate.due_alerts(session, now)]
    for alert_id in ids:
        with ctx.sessions.begin() as session:
            alert = session.get(AlertRow, alert_id)  # re-read: an ack may have just landed
            if alert is not None:
                escalate.escalate(session, alert, ctx.alert_ctx, ctx.renderer, now)
    return len(ids)
