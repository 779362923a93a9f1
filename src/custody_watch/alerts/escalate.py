"""Moving live alerts along their ladders when their next action falls due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle, notify
from custody_watch.alerts.context import AlertContext
from custody_watch.domain import Severity
from custody_watch.escalation import ladder as ladder_steps
from custody_watch.escalation.assign import page_marker
from custody_watch.escalation.policy import from_json
from custody_watch.messages.render import Renderer
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow


def due_alerts(session: Session, now: datetime, limit: int = 500) -> Sequence[AlertRow]:
    return session.scalars(
        select(AlertRow)
        .where(AlertRow.live_key.is_not(None), AlertRow.next_action_at <= now)
        .order_by(AlertRow.next_action_at, AlertRow.id)
        .limit(limit)
    ).all()


def escalate(
    session: Session, alert: AlertRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    """Take every step due by ``now``. The caller re-read ``alert`` in this transaction, so
    an acknowledgement that landed a moment ago is seen and wins."""
    if alert.live_key is None or alert.next_action_at is None or alert.next_action_at > now:
        return
    if alert.snoozed_until is not None and alert.snoozed_until > now:
        # Snoozed (``alerts.snooze``): paging waits for the snooze to end, then goes on.
        alert.next_action_at = alert.snoozed_until
        return
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if alert.state == "acknowledged":
        # The acknowledgement timed out and the child is still held: start again.
        alert.state = "open"
        audit.record(
            session,
            now,
            "ack_timed_out",
            detail=f"acknowledged by {alert.acknowledged_by}; condition still holds",
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        alert.ack_expires_at = None
        alert.version += 1
        # A new round before paging resumes: the new pages' links carry it, and a link from
        # the round before cannot silence them.
        alert.ack_round += 1
        lifecycle.start_ladder(session, alert, ctx, renderer, now, "acknowledgement timed out")
        return
    if ladder is None:
        alert.next_action_at = None
        return
    steps = ladder_steps.catch_up(ladder, max(alert.level, 0), alert.next_action_at, now)
    done: set[int] = set()
    for current in reversed(steps):  # latest first: if a level repeats, tell it once, now
        if current.level in done:
            continue
        done.add(current.level)
        empty = notify.notify_level(
            session,
            alert,
            ladder.levels[current.level],
            current.level,
            ctx,
            renderer,
            now,
            current.reason,
            marker=page_marker(ladder, current.position),
        )
        if empty:
            from custody_watch.alerts.system import nobody_on_call

            nobody_on_call(session, empty, alert, ctx, renderer, now)
    if steps:
        alert.level = steps[-1].position
        alert.next_action_at = steps[-1].next_at
    alert.version += 1
