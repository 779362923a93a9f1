"""What a person may do to a live alert besides acknowledging it: snooze its paging, add a
note (a handover), escalate it now, reassign it to a person. The CLI, the web pages and the
JSON API all call these; each is audited in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import escalate
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.effects import carry_out
from custody_watch.alerts.snooze import decide_snooze
from custody_watch.alerts.transition import Page, Transition, addressed
from custody_watch.domain import Severity
from custody_watch.domain.states import LIVE_STATES, AlertState
from custody_watch.escalation.ladders import from_json
from custody_watch.store import audit, outbox
from custody_watch.store.schema import AlertNoteRow, AlertRow, FindingRow
from custody_watch.times import format_local, utc_z

MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message: str
    alert_id: int | None = None


def live_by_code(session: Session, code: str) -> AlertRow | None:
    return session.scalar(select(AlertRow).where(AlertRow.live_ack_code == code.strip()))


def snooze(
    session: Session, alert: AlertRow, by: str, length: timedelta, reason: str, now: datetime
) -> ActionResult:
    findings = session.execute(
        select(FindingRow.rule, FindingRow.severity).where(
            FindingRow.alert_id == alert.id, FindingRow.cleared_at.is_(None)
        )
    ).all()
    decision = decide_snooze(
        [(rule, severity) for rule, severity in findings], alert.state, length, reason, now
    )
    if not decision.ok or decision.until is None:
        audit.record(
            session,
            now,
            "snooze_refused",
            actor=by,
            detail=decision.reason,
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
        return ActionResult(False, f"alert {alert.ack_code}: {decision.reason}", alert.id)
    alert.snoozed_until = decision.until
    alert.snoozed_by = by
    alert.snooze_reason = reason.strip()
    if alert.next_action_at is not None and alert.next_action_at < decision.until:
        # The ladder's next step waits for the snooze to end (escalate checks it too).
        alert.next_action_at = decision.until
    outbox.cancel_pages(session, alert.id)
    alert.version += 1
    audit.record(
        session,
        now,
        "snoozed",
        actor=by,
        detail=f"until {decision.until.isoformat()}: {alert.snooze_reason}",
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    return ActionResult(
        True,
        f"alert {alert.ack_code} snoozed until {format_local(decision.until)} "
        f"({utc_z(decision.until)})",
        alert.id,
    )


def add_note(session: Session, alert: AlertRow, by: str, text: str, now: datetime) -> ActionResult:
    body = text.strip()
    if not body:
        return ActionResult(False, "a note needs some text", alert.id)
    if len(body) > MAX_NOTE:
        return ActionResult(False, f"a note is at most {MAX_NOTE} characters", alert.id)
    session.add(AlertNoteRow(alert_id=alert.id, at=now, author=by, text=body))
    audit.record(
        session,
        now,
        "note_added",
        actor=by,
        detail=body[:200],
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    return ActionResult(True, f"note added to alert {alert.ack_code}", alert.id)


def notes(session: Session, alert_id: int) -> list[AlertNoteRow]:
    return list(
        session.scalars(
            select(AlertNoteRow)
            .where(AlertNoteRow.alert_id == alert_id)
            .order_by(AlertNoteRow.at, AlertNoteRow.id)
        )
    )


def escalate_now(
    session: Session,
    alert: AlertRow,
    by: str,
    deps: AlertDeps,
    now: datetime,
) -> ActionResult:
    """Take the ladder's next step at once (a snooze ends: escalating is the opposite)."""
    if alert.state != AlertState.OPEN:
        return ActionResult(False, f"alert {alert.ack_code} is {alert.state}", alert.id)
    if from_json(alert.escalation).get(Severity(alert.severity)) is None:
        return ActionResult(False, f"alert {alert.ack_code} has no ladder to climb", alert.id)
    alert.snoozed_until = None
    alert.next_action_at = now
    audit.record(
        session,
        now,
        "escalated_now",
        actor=by,
        detail=f"from level {max(alert.level, 0) + 1}",
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    carry_out(session, escalate.escalate(session, alert, deps, now), deps, now)
    return ActionResult(True, f"alert {alert.ack_code} escalated by {by}", alert.id)


def reassign(
    session: Session,
    alert: AlertRow,
    by: str,
    to: str,
    deps: AlertDeps,
    now: datetime,
) -> ActionResult:
    """From now on pages for this alert go to ``to`` instead of the rota's level; ``to`` is
    paged at once when the alert is open, so the handover is heard."""
    if alert.state not in LIVE_STATES:
        return ActionResult(False, f"alert {alert.ack_code} is {alert.state}", alert.id)
    if to not in deps.directory.people:
        return ActionResult(False, f"--to: {to[:40]!r} is not a person in the config", alert.id)
    alert.assigned_to = to
    alert.version += 1
    audit.record(
        session,
        now,
        "reassigned",
        actor=by,
        detail=f"to {to}",
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if alert.state == AlertState.OPEN and ladder is not None:
        index = min(max(alert.level, 0), ladder.last)
        page = Page(ladder.levels[index], index, f"reassigned to you by {by}")
        # The handover page, to ``to`` alone (``page_targets``): a person in the config,
        # so it never finds a role empty.
        paged = Transition(alert, pages=(addressed(page, alert, deps.directory, now),))
        carry_out(session, paged, deps, now)
    return ActionResult(True, f"alert {alert.ack_code} reassigned to {to}", alert.id)
