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

from custody_watch.alerts.deps import OPERATIONS, Directory
from custody_watch.dispatch.alert_side import AlertSide
from custody_watch.domain.states import TOLD_STATES, OutboxState
from custody_watch.store import audit, outbox
from custody_watch.store.schema import AlertRow, OutboxRow

OPS_NOTICE = "ops_notice"


def after_failure(session: Session, row: OutboxRow, alerts: AlertSide, now: datetime) -> None:
    if row.purpose == OPS_NOTICE:
        _operations_unreachable(session, row, alerts, now)
        return
    if row.purpose != outbox.PAGE:
        return  # a failed ack/resolve notice is logged; nobody is paged about a notice
    step_key = _step_key(row)
    siblings = session.scalars(
        select(OutboxRow).where(OutboxRow.dedupe_key.like(f"{step_key}:%"), OutboxRow.id != row.id)
    ).all()
    states = {sibling.state for sibling in siblings}
    if states & {OutboxState.PENDING, OutboxState.SENDING}:
        return
    if OutboxState.SENT in states:
        _operations_notice(session, row, alerts.deps.directory, now)
        return
    used = {row.channel, *(sibling.channel for sibling in siblings)}
    if not _another_channel(session, row, used, alerts.deps.directory, now):
        _unreachable(session, row, alerts, now)


def _another_channel(
    session: Session, row: OutboxRow, used: set[str], directory: Directory, now: datetime
) -> bool:
    """Queue the page on the first of the person's channels not ``used`` in this step (SMS
    failed -> email); False when there is none."""
    person = directory.people.get(row.person_id)
    if person is None:
        return False
    for channel, kind in directory.channel_kinds.items():
        address = person.address(kind)
        if channel in used or kind == "any" or address is None:
            continue
        route = outbox.Route(
            dedupe_key=f"{_step_key(row)}:{channel}",
            alert_id=row.alert_id,
            purpose=row.purpose,
            person_id=row.person_id,
            channel=channel,
            address=address,
            level=row.level,
        )
        body = outbox.Body(row.subject or row.body_text[:80], row.body_text)
        session.add(outbox.pending(route, body, row.max_attempts, now))
        audit.record(
            session,
            now,
            "fallback",
            detail=f"{row.person_id}: {row.channel} failed, trying {channel}",
            alert_id=row.alert_id,
        )
        return True
    return False


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
                OutboxRow.state == OutboxState.SENT,
            )
        )
        is not None
    )


def after_success(session: Session, row: OutboxRow, alerts: AlertSide, now: datetime) -> None:
    """The person was reached: any channel of the same step that failed before this one got
    through is a contact detail to fix, so operations hears of it now; and a
    ``delivery_failed`` alert about the person is over."""
    if row.purpose != outbox.PAGE:
        return
    step_key = _step_key(row)
    failed = session.scalars(
        select(OutboxRow).where(
            OutboxRow.dedupe_key.like(f"{step_key}:%"),
            OutboxRow.id != row.id,
            OutboxRow.state == OutboxState.FAILED,
        )
    ).all()
    for sibling in failed:
        _operations_notice(session, sibling, alerts.deps.directory, now)
    alerts.reached(session, row, now)


def _unreachable(session: Session, row: OutboxRow, alerts: AlertSide, now: datetime) -> None:
    alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
    what = f"alert {alert.ack_code}" if alert else "an alert"
    summary = f"{row.person_id} could not be reached on any channel for {what} ({row.last_error})"
    # Operations hear of it first; when operations are the ones who cannot be reached, the
    # duty inspector hears at once.
    operations = _is_operations(alerts.deps.directory, row.person_id, now)
    alerts.unreachable(session, row, summary, now, operations=operations)


def _operations_notice(
    session: Session, row: OutboxRow, directory: Directory, now: datetime
) -> None:
    """A plain notice (not an alert: nobody must acknowledge a typo) to operations."""
    text = (
        f"custody-watch: {row.person_id} was reached, but not by {row.channel}: "
        f"{row.last_error} (code {row.error_code or '-'}). Please check the rota's contact details."
    )
    for person in directory.holders(OPERATIONS, now, None, None):
        for channel, kind in directory.channel_kinds.items():
            address = person.address(kind)
            if address is None or (kind == "any" and len(directory.channel_kinds) > 1):
                continue
            key = f"{row.dedupe_key}:ops:{person.id}:{channel}"
            if session.scalar(select(OutboxRow.id).where(OutboxRow.dedupe_key == key)):
                continue  # already told about this failure
            route = outbox.Route(key, None, OPS_NOTICE, person.id, channel, address)
            body = outbox.Body(f"custody-watch: {row.channel} to {row.person_id} failed", text)
            session.add(outbox.pending(route, body, row.max_attempts, now))
    audit.record(session, now, "ops_notice", detail=text, alert_id=row.alert_id)


def _is_operations(directory: Directory, person_id: str, now: datetime) -> bool:
    return any(p.id == person_id for p in directory.holders(OPERATIONS, now, None, None))


def _operations_unreachable(
    session: Session, row: OutboxRow, alerts: AlertSide, now: datetime
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
    if set(others) & set(TOLD_STATES):
        return
    summary = (
        f"operations ({row.person_id}) could not be told on any channel "
        f"({row.last_error}): {row.body_text}"
    )
    alerts.unreachable(session, row, summary, now, operations=True)
