"""Moving live alerts along their ladders when their next action falls due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.transition import Page, Transition, addressed
from custody_watch.domain import Severity
from custody_watch.domain.states import AlertState
from custody_watch.escalation import steps as ladder_steps
from custody_watch.escalation.assign import page_marker
from custody_watch.escalation.ladders import from_json
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow


def due_alerts(session: Session, now: datetime, limit: int = 500) -> Sequence[AlertRow]:
    return session.scalars(
        select(AlertRow)
        .where(AlertRow.live_key.is_not(None), AlertRow.next_action_at <= now)
        .order_by(AlertRow.next_action_at, AlertRow.id)
        .limit(limit)
    ).all()


def escalate(session: Session, alert: AlertRow, deps: AlertDeps, now: datetime) -> Transition:
    """Take every step due by ``now``: the pages they make, latest first (``carry_out``
    makes them). The caller re-read ``alert`` in this transaction, so an acknowledgement
    that landed a moment ago is seen and wins."""
    if alert.live_key is None or alert.next_action_at is None or alert.next_action_at > now:
        return Transition(alert)
    if alert.snoozed_until is not None and alert.snoozed_until > now:
        # Snoozed (``alerts.snooze``): paging waits for the snooze to end, then goes on.
        alert.next_action_at = alert.snoozed_until
        return Transition(alert)
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if alert.state == AlertState.ACKNOWLEDGED:
        return _ack_timed_out(session, alert, deps, now)
    if ladder is None:
        alert.next_action_at = None
        return Transition(alert)
    steps = ladder_steps.catch_up(ladder, max(alert.level, 0), alert.next_action_at, now)
    pages: list[Page] = []
    for current in reversed(steps):  # latest first: if a level repeats, tell it once, now
        if any(page.index == current.level for page in pages):
            continue
        page = Page(
            ladder.levels[current.level],
            current.level,
            current.reason,
            marker=page_marker(ladder, current.position),
        )
        pages.append(addressed(page, alert, deps.directory, now))
    if steps:
        alert.level = steps[-1].position
        alert.next_action_at = steps[-1].next_at
    alert.version += 1
    return Transition(alert, pages=tuple(pages))


def _ack_timed_out(session: Session, alert: AlertRow, deps: AlertDeps, now: datetime) -> Transition:
    """The acknowledgement timed out and the child is still held: start again."""
    audit.record(
        session,
        now,
        "ack_timed_out",
        detail=f"acknowledged by {alert.acknowledged_by}; condition still holds",
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    # A new round before paging resumes: the new pages' links carry it, and a link from
    # the round before cannot silence them.
    lifecycle.end_acknowledgement(alert)
    alert.version += 1
    pages = lifecycle.start_ladder(alert, deps, now, "acknowledgement timed out")
    return Transition(alert, pages=pages)
