"""Turning a decision to notify into outbox rows: who (rota), where (channels), what
(rendered now, so the row is exactly what will be sent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts.context import AlertContext, Person
from custody_watch.alerts.fresh import Fresh, fresh_findings
from custody_watch.escalation.assign import page_targets
from custody_watch.escalation.policy import Level
from custody_watch.messages.render import (
    AlertView,
    Renderer,
    finding_lines,
    held_for,
)
from custody_watch.rules.facts import age_of
from custody_watch.rules.policy import Policy
from custody_watch.store import audit, detentions, outbox
from custody_watch.store.schema import AlertRow, DetentionRow, FindingRow, OutboxRow
from custody_watch.times import format_local


def view_of(
    session: Session,
    alert: AlertRow,
    purpose: str,
    ctx: AlertContext,
    now: datetime,
    *,
    reason: str = "",
    marker: str = "",
) -> AlertView:
    """What messages about ``alert`` say as of ``now``: read once per step, then personalised
    for each recipient with ``for_person`` (only the ack link differs). Made again when each
    message is sent (``refresh``), so the held time and the details are the send's."""
    findings = session.scalars(
        select(FindingRow).where(FindingRow.alert_id == alert.id, FindingRow.cleared_at.is_(None))
    ).all()
    age: int | None = None
    arrival: datetime | None = None
    fresh: dict[str, Fresh] = {}
    if alert.detention_id is not None:
        row = session.get(DetentionRow, alert.detention_id)
        if row is not None:
            detention = detentions.load(row)
            age = age_of(detention, Policy(zone=ctx.zone))
            in_custody = row.released_time is None or row.released_time > now
            arrival = row.arrival_time if in_custody else None
            if ctx.rules is not None and in_custody:
                fresh = fresh_findings(detention, ctx.rules, now, {f.rule for f in findings})
    return AlertView(
        alert_id=alert.id,
        purpose=purpose,
        severity=alert.severity,
        state=alert.state,
        ack_code=alert.ack_code,
        custody_ref=alert.custody_ref,
        suite=alert.suite,
        age=age,
        held_for=held_for(arrival, now),
        opened_at=format_local(alert.opened_at, ctx.zone),
        findings=finding_lines(
            [
                (
                    f.rule,
                    f.severity,
                    f.since,
                    fresh[f.rule].detail if f.rule in fresh else f.detail,
                    fresh[f.rule].limit if f.rule in fresh else None,
                )
                for f in findings
            ],
            ctx.zone,
            now,
        ),
        summary=alert.summary,
        acknowledged_by=alert.acknowledged_by,
        ack_url=None,
        level=max(alert.level, 0),
        reason=reason,
        marker=marker,
        as_of=format_local(now, ctx.zone),
    )


def for_person(
    view: AlertView, person: Person, ctx: AlertContext, now: datetime, ack_round: int
) -> AlertView:
    if ctx.ack_link is None:
        return view
    return replace(view, ack_url=ctx.ack_link(view.alert_id, ack_round, person.id, now))


def notify_level(
    session: Session,
    alert: AlertRow,
    level: Level,
    level_index: int,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    reason: str,
    marker: str = "",
) -> list[str]:
    """Queue messages for everyone a level names (or the one person the alert is assigned
    to); returns roles with nobody on call. ``marker`` says what the page is ("REPEAT 2")."""
    alert.step += 1
    empty_roles: list[str] = []
    people: list[Person] = []
    for entry in page_targets(alert.assigned_to, level.notify, ctx.directory.people):
        holders = ctx.directory.holders(entry, now, alert.suite, alert.force)
        if not holders:
            empty_roles.append(entry)
        else:
            _role_filled(session, entry, ctx, renderer, now)
        people.extend(p for p in holders if p not in people)
    if people:
        view = view_of(session, alert, "notify", ctx, now, reason=reason, marker=marker)
        for person in people:
            personal = for_person(view, person, ctx, now, alert.ack_round)
            for channel in level.channels:
                _queue_one(
                    session, alert, person, channel, level_index, personal, ctx, renderer, now
                )
    if alert.first_notified_at is None and people:
        alert.first_notified_at = now
    audit.record(
        session,
        now,
        "escalation_step",
        detail=f"level {level_index + 1}: {', '.join(p.id for p in people) or 'nobody'}; {reason}",
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    return empty_roles


def _role_filled(
    session: Session, role: str, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    """Someone holds ``role`` again: an alert that nobody did is over."""
    from custody_watch.alerts import lifecycle, system  # they import this module

    key = f"nobody_on_call:{role}"
    if lifecycle.live_alert(session, key) is not None:
        system.clear_system(session, key, ctx, renderer, now, f"{role} is covered again")


def notify_people(
    session: Session,
    alert: AlertRow,
    purpose: str,
    person_channels: Iterable[tuple[str, str]],
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    reason: str = "",
) -> None:
    """Queue a notice (acknowledged, resolved) to the given (person, channel) pairs."""
    alert.step += 1
    pairs = list(dict.fromkeys(person_channels))
    if not pairs:
        return
    view = view_of(session, alert, purpose, ctx, now, reason=reason)
    for person_id, channel in pairs:
        person = ctx.directory.people.get(person_id)
        if person is not None:
            personal = for_person(view, person, ctx, now, alert.ack_round)
            _queue_one(session, alert, person, channel, None, personal, ctx, renderer, now)


def notified_so_far(session: Session, alert_id: int) -> list[tuple[str, str]]:
    """Everyone told about an alert (by any channel that took the message)."""
    rows = session.execute(
        select(OutboxRow.person_id, OutboxRow.channel)
        .where(OutboxRow.alert_id == alert_id, OutboxRow.purpose == "notify")
        .where(OutboxRow.state.in_(("sent", "sending", "pending")))
        .order_by(OutboxRow.id)
    ).all()
    return [(person, channel) for person, channel in rows]


def _queue_one(
    session: Session,
    alert: AlertRow,
    person: Person,
    channel: str,
    level_index: int | None,
    view: AlertView,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
) -> None:
    kind = ctx.directory.channel_kinds.get(channel)
    address = person.address(kind) if kind else None
    if kind is None or address is None:
        audit.record(
            session,
            now,
            "no_address",
            detail=f"{person.id} has no address for channel {channel!r}",
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
        return
    message = renderer.for_kind(kind, view)
    row = outbox.pending(
        dedupe_key=f"alert:{alert.id}:{alert.step}:{person.id}:{channel}",
        alert_id=alert.id,
        purpose=view.purpose,
        person_id=person.id,
        channel=channel,
        address=address,
        level=level_index,
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
        max_attempts=ctx.max_attempts,
        now=now,
    )
    if view.purpose == "notify":
        # A page is made again when it is sent (``refresh``): this is what it needs then.
        row.render = {"reason": view.reason, "marker": view.marker, "round": alert.ack_round}
    session.add(row)


def view_for_row(
    session: Session, row: OutboxRow, ctx: AlertContext, now: datetime
) -> AlertView | None:
    """What the page in ``row`` says as of ``now`` (for its person, with its marker and
    reason); None when the row has nothing to make it from (see ``refresh``)."""
    if row.render is None or row.alert_id is None:
        return None
    alert = session.get(AlertRow, row.alert_id)
    person = ctx.directory.people.get(row.person_id)
    if alert is None or person is None:
        return None
    view = view_of(
        session,
        alert,
        row.purpose,
        ctx,
        now,
        reason=str(row.render.get("reason", "")),
        marker=str(row.render.get("marker", "")),
    )
    return for_person(view, person, ctx, now, int(row.render.get("round", alert.ack_round)))


def refresh(
    session: Session, row: OutboxRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> bool:
    """Make a claimed page again as of ``now``, the moment it is sent: the held time, the
    details and the limits are the send's, not the queueing's (a repeat sent 15 minutes on
    says 15 minutes more). The row keeps the text that went. False (the text written when
    the page was decided is sent) when the row has nothing to make it from."""
    alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
    kind = ctx.directory.channel_kinds.get(row.channel)
    if alert is None or kind is None or alert.detention_id is None:
        # A system alert's text (feed silent, someone unreachable) has no clock in it, and
        # its summary may have been reworded since for a later page: it goes as decided.
        return False
    view = view_for_row(session, row, ctx, now)
    if view is None:
        return False
    message = renderer.for_kind(kind, view)
    row.subject, row.body_text, row.body_html = message.subject, message.text, message.html
    return True
