"""One alert per detention, kept in step with its findings.

1. No live alert and findings: open one at the highest severity, snapshot the escalation
   policies onto it, notify level 1.
2. A live alert and findings: record findings raised, changed and cleared. A rise in
   severity notifies level 1 again and returns an acknowledged alert to ``open``; a fall is
   recorded and the ladder goes on.
3. A live alert and no findings: resolve it and tell everyone who was notified.

Every transition is an audit row written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custody_watch.alerts import notify
from custody_watch.alerts.codes import new_ack_code
from custody_watch.alerts.context import AlertContext
from custody_watch.domain import Finding, Severity
from custody_watch.escalation import ladder as ladder_steps
from custody_watch.escalation.policy import Ladders, from_json, to_json
from custody_watch.messages.render import Renderer
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow, FindingRow

LIVE = ("open", "acknowledged")


def live_alert(session: Session, subject: str) -> AlertRow | None:
    return session.scalar(select(AlertRow).where(AlertRow.live_key == subject))


def live_subjects(session: Session, subjects: Sequence[str]) -> set[str]:
    """Which of ``subjects`` have a live alert (one query a chunk of 500)."""
    live: set[str] = set()
    for start in range(0, len(subjects), 500):
        chunk = subjects[start : start + 500]
        live.update(
            key
            for key in session.scalars(
                select(AlertRow.live_key).where(AlertRow.live_key.in_(chunk))
            )
            if key is not None
        )
    return live


def sync(
    session: Session,
    *,
    subject: str,
    findings: Sequence[Finding],
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    detention_id: int | None = None,
    custody_ref: str | None = None,
    suite: str | None = None,
    force: str | None = None,
    summary: str = "",
    ladders: Ladders | None = None,
    cause: str = "",
) -> AlertRow | None:
    """Bring the live alert for ``subject`` in line with ``findings`` (see module doc)."""
    alert = live_alert(session, subject)
    if not findings:
        if alert is not None:
            resolve(session, alert, ctx, renderer, now, cause or "all findings cleared")
        return None
    severity = max((f.severity for f in findings), key=lambda s: s.rank)
    if alert is None:
        opened = _open(
            session,
            subject=subject,
            severity=severity,
            detention_id=detention_id,
            custody_ref=custody_ref,
            suite=suite,
            force=force,
            summary=summary,
            ladders=ladders if ladders is not None else ctx.ladders,
            now=now,
        )
        if opened is not None:
            _sync_findings(session, opened, findings, now)
            start_ladder(session, opened, ctx, renderer, now, "alert opened")
            return opened
        # Another daemon opened it a moment ago (and paged level 1): bring theirs up to date.
        alert = live_alert(session, subject)
        if alert is None:
            return None
    _sync_findings(session, alert, findings, now)
    if summary:
        alert.summary = summary
    current = Severity(alert.severity)
    if severity > current:
        alert.severity = severity.value
        reopened = alert.state == "acknowledged"
        alert.state = "open"
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        alert.ack_expires_at = None
        # A re-raise starts a new round before its pages go out: their links carry it, and
        # links sent for the lower severity stop working.
        alert.ack_round += 1
        audit.record(
            session,
            now,
            "severity_raised",
            detail=f"{current.value} -> {severity.value}"
            + ("; acknowledgement ended" if reopened else ""),
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
        start_ladder(session, alert, ctx, renderer, now, f"severity rose to {severity.value}")
    elif severity < current:
        alert.severity = severity.value
        audit.record(
            session,
            now,
            "severity_lowered",
            detail=f"{current.value} -> {severity.value}",
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
    if severity != current:
        # Only a transition moves the version: a refreshed finding detail ("held 5h 10m")
        # must not make a concurrent acknowledgement fail as "changed meanwhile".
        alert.version += 1
    return alert


def resolve(
    session: Session,
    alert: AlertRow,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    cause: str,
) -> None:
    alert.state = "resolved"
    alert.resolved_at = now
    alert.live_key = None
    alert.live_ack_code = None
    alert.next_action_at = None
    alert.version += 1
    alert.ack_round += 1  # the round ends: its links stop working
    for row in _active_findings(session, alert.id):
        row.cleared_at = now
    cancel_pending(session, alert.id)
    audit.record(
        session, now, "resolved", detail=cause, alert_id=alert.id, custody_ref=alert.custody_ref
    )
    told = notify.notified_so_far(session, alert.id)
    notify.notify_people(session, alert, "resolved", told, ctx, renderer, now, reason=cause)


def _open(
    session: Session,
    *,
    subject: str,
    severity: Severity,
    detention_id: int | None,
    custody_ref: str | None,
    suite: str | None,
    force: str | None,
    summary: str,
    ladders: Ladders,
    now: datetime,
) -> AlertRow | None:
    """A new live alert, or None when another daemon holds the subject's live alert."""
    alert = AlertRow(
        subject=subject,
        live_key=subject,
        detention_id=detention_id,
        custody_ref=custody_ref,
        suite=suite,
        force=force,
        state="open",
        severity=severity.value,
        opened_severity=severity.value,
        summary=summary,
        ack_code="",
        opened_at=now,
        escalation=to_json(ladders),
        level=-1,
        step=0,
        version=0,
        ack_round=0,
    )
    code = new_ack_code(session)
    alert.ack_code = code
    alert.live_ack_code = code
    try:
        # A savepoint: losing the race for live_key (or the ack code) to another daemon must
        # not spoil the rest of this transaction.
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        return None
    audit.record(
        session,
        now,
        "opened",
        detail=f"{severity.value}" + (f": {summary}" if summary else ""),
        alert_id=alert.id,
        custody_ref=custody_ref,
    )
    return alert


def start_ladder(
    session: Session,
    alert: AlertRow,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    reason: str,
) -> None:
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if ladder is None:
        # No ladder for this severity (info): recorded and shown, nobody is paged.
        alert.level = -1
        alert.next_action_at = None
        return
    first = ladder_steps.start(ladder, now, reason)
    empty = notify.notify_level(
        session, alert, ladder.levels[first.level], first.level, ctx, renderer, now, reason
    )
    alert.level = first.position
    alert.next_action_at = first.next_at
    if empty:
        from custody_watch.alerts.system import nobody_on_call

        nobody_on_call(session, empty, alert, ctx, renderer, now)


def _sync_findings(
    session: Session, alert: AlertRow, findings: Sequence[Finding], now: datetime
) -> None:
    existing = {
        row.rule: row
        for row in session.scalars(select(FindingRow).where(FindingRow.alert_id == alert.id))
    }
    wanted = {f.rule: f for f in findings}
    for rule, finding in wanted.items():
        row = existing.get(rule)
        if row is None:
            session.add(
                FindingRow(
                    alert_id=alert.id,
                    rule=rule,
                    severity=finding.severity.value,
                    since=finding.since,
                    detail=finding.detail,
                    raised_at=now,
                )
            )
            event = "finding_raised"
        elif row.cleared_at is not None or row.severity != finding.severity.value:
            event = "finding_raised" if row.cleared_at is not None else "finding_changed"
            row.cleared_at = None
            row.severity = finding.severity.value
            row.since = finding.since
            row.detail = finding.detail
        else:
            row.detail = finding.detail
            continue
        audit.record(
            session,
            now,
            event,
            detail=(
                f"{rule} {finding.severity.value} since {finding.since.isoformat()}: "
                f"{finding.detail}"
            ),
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
    for rule, row in existing.items():
        if rule not in wanted and row.cleared_at is None:
            row.cleared_at = now
            audit.record(
                session,
                now,
                "finding_cleared",
                detail=rule,
                alert_id=alert.id,
                custody_ref=alert.custody_ref,
            )


def _active_findings(session: Session, alert_id: int) -> Sequence[FindingRow]:
    return session.scalars(
        select(FindingRow).where(FindingRow.alert_id == alert_id, FindingRow.cleared_at.is_(None))
    ).all()


def cancel_pending(session: Session, alert_id: int) -> None:
    from sqlalchemy import update

    from custody_watch.store.schema import OutboxRow

    session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.alert_id == alert_id,
            OutboxRow.purpose == "notify",
            OutboxRow.state == "pending",
        )
        .values(state="cancelled", last_error="alert acknowledged or resolved before sending")
    )
