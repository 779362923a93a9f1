"""What happens when a message finally fails.

1. Other channels of the same person in the same step still pending or sent: the person may
   yet be reached; nothing more now.
2. One of them was sent: the person was reached, but a wrong number in the rota must be
   fixed, so operations gets a notice naming the person, the channel and the error.
3. Otherwise try the person's channels not used in this step (SMS failed -> email).
4. No channel left: ``delivery_failed``, critical, to operations on every channel they have,
   and the alert's own ladder moves to its next level now instead of after the wait.
5. Operations themselves cannot be reached (every channel of a notice to them failed, or a
   page to them found no channel): ``delivery_failed`` about them goes to the next role up,
   the duty inspector, at once. A delivery failure always reaches a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts.context import OPERATIONS, AlertContext
from custody_watch.alerts.system import raise_system
from custody_watch.domain import Severity
from custody_watch.messages.render import Renderer
from custody_watch.store import audit, outbox
from custody_watch.store.schema import AlertRow, OutboxRow


def after_failure(
    session: Session, row: OutboxRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    if row.purpose == "ops_notice":
        _operations_unreachable(session, row, ctx, renderer, now)
        return
    if row.purpose != "notify":
        return  # a failed ack/resolve notice is logged; nobody is paged about a notice
    step_key = _step_key(row)
    siblings = session.scalars(
        select(OutboxRow).where(OutboxRow.dedupe_key.like(f"{step_key}:%"), OutboxRow.id != row.id)
    ).all()
    states = {sibling.state for sibling in siblings}
    if states & {"pending", "sending"}:
        return
    if "sent" in states:
        _operations_notice(session, row, ctx, renderer, now)
        return
    used = {row.channel, *(sibling.channel for sibling in siblings)}
    person = ctx.directory.people.get(row.person_id)
    if person is not None:
        for channel, kind in ctx.directory.channel_kinds.items():
            address = person.address(kind)
            if channel in used or kind == "any" or address is None:
                continue
            session.add(
                outbox.pending(
                    dedupe_key=f"{step_key}:{channel}",
                    alert_id=row.alert_id,
                    purpose=row.purpose,
                    person_id=row.person_id,
                    channel=channel,
                    address=address,
                    level=row.level,
                    subject=row.subject or row.body_text[:80],
                    body_text=row.body_text,
                    body_html=None,
                    max_attempts=row.max_attempts,
                    now=now,
                )
            )
            audit.record(
                session,
                now,
                "fallback",
                detail=f"{row.person_id}: {row.channel} failed, trying {channel}",
                alert_id=row.alert_id,
            )
            return
    _unreachable(session, row, ctx, renderer, now)


def _step_key(row: OutboxRow) -> str:
    """``alert:<id>:<step>:<person>``: every channel tried for one person in one step shares
    it (person ids and channel names cannot contain a colon)."""
    return ":".join(row.dedupe_key.split(":")[:4])


def reached_in_step(session: Session, row: OutboxRow) -> bool:
    """Whether another channel of the same person in the same step got through."""
    return (
        session.scalar(
            select(OutboxRow.id).where(
                OutboxRow.dedupe_key.like(f"{_step_key(row)}:%"),
                OutboxRow.id != row.id,
                OutboxRow.state == "sent",
            )
        )
        is not None
    )


def after_success(
    session: Session, row: OutboxRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    """The person was reached: any channel of the same step that failed before this one got
    through is a contact detail to fix, so operations hears of it now."""
    if row.purpose != "notify":
        return
    step_key = _step_key(row)
    failed = session.scalars(
        select(OutboxRow).where(
            OutboxRow.dedupe_key.like(f"{step_key}:%"),
            OutboxRow.id != row.id,
            OutboxRow.state == "failed",
        )
    ).all()
    for sibling in failed:
        _operations_notice(session, sibling, ctx, renderer, now)


def _unreachable(
    session: Session, row: OutboxRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
    what = f"alert {alert.ack_code}" if alert else "an alert"
    # Operations hear of it first; when operations are the ones who cannot be reached, the
    # duty inspector hears at once.
    _delivery_failed(
        session,
        row,
        f"{row.person_id} could not be reached on any channel for {what} ({row.last_error})",
        ctx,
        renderer,
        now,
        with_inspector=_is_operations(ctx, row.person_id, now),
    )
    if alert is not None and alert.state == "open" and alert.live_key is not None:
        # Escalate early: the next level must not wait for someone who never got the page.
        alert.next_action_at = now
        alert.version += 1


def _delivery_failed(
    session: Session,
    row: OutboxRow,
    summary: str,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    *,
    with_inspector: bool,
) -> None:
    """The one ``delivery_failed`` alert per person who could not be reached."""
    raise_system(
        session,
        key=f"delivery_failed:{row.person_id}",
        rule="delivery_failed",
        severity=Severity.CRITICAL,
        since=now,
        summary=summary,
        ctx=ctx,
        renderer=renderer,
        now=now,
        with_inspector=with_inspector,
    )


def _operations_notice(
    session: Session, row: OutboxRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    """A plain notice (not an alert: nobody must acknowledge a typo) to operations."""
    text = (
        f"custody-watch: {row.person_id} was reached, but not by {row.channel}: "
        f"{row.last_error} (code {row.error_code or '-'}). Please check the rota's contact details."
    )
    for person in ctx.directory.holders(OPERATIONS, now, None, None):
        for channel, kind in ctx.directory.channel_kinds.items():
            address = person.address(kind)
            if address is None or (kind == "any" and len(ctx.directory.channel_kinds) > 1):
                continue
            key = f"{row.dedupe_key}:ops:{person.id}:{channel}"
            if session.scalar(select(OutboxRow.id).where(OutboxRow.dedupe_key == key)):
                continue  # already told about this failure
            session.add(
                outbox.pending(
                    dedupe_key=key,
                    alert_id=None,
                    purpose="ops_notice",
                    person_id=person.id,
                    channel=channel,
                    address=address,
                    level=None,
                    subject=f"custody-watch: {row.channel} to {row.person_id} failed",
                    body_text=text,
                    body_html=None,
                    max_attempts=row.max_attempts,
                    now=now,
                )
            )
    audit.record(session, now, "ops_notice", detail=text, alert_id=row.alert_id)


def _is_operations(ctx: AlertContext, person_id: str, now: datetime) -> bool:
    return any(p.id == person_id for p in ctx.directory.holders(OPERATIONS, now, None, None))


def _operations_unreachable(
    session: Session, row: OutboxRow, ctx: AlertContext, renderer: Renderer, now: datetime
) -> None:
    """A notice to operations failed for good. When no other copy of it (another channel,
    another holder of the role) is on its way or went out, operations cannot be told: the
    next role up is, through a ``delivery_failed`` alert that includes the duty inspector."""
    prefix = row.dedupe_key.rsplit(":ops:", 1)[0] + ":ops:"
    others = session.scalars(
        select(OutboxRow.state).where(
            OutboxRow.dedupe_key.like(f"{prefix}%"), OutboxRow.id != row.id
        )
    ).all()
    if set(others) & {"pending", "sending", "sent"}:
        return
    _delivery_failed(
        session,
        row,
        f"operations ({row.person_id}) could not be told on any channel "
        f"({row.last_error}): {row.body_text}",
        ctx,
        renderer,
        now,
        with_inspector=True,
    )
