"""One alert per detention (or system problem), kept in step with its findings.

1. No live alert and findings: open one at the highest severity, snapshot the escalation
   policies onto it, and decide to page level 1.
2. A live alert and findings: record findings raised, changed and cleared. A rise in
   severity pages level 1 again and returns an acknowledged alert to ``open``; a fall is
   recorded and the ladder goes on.
3. A live alert and no findings: resolve it, and tell everyone who was notified.

Decide, then act: this module changes the alert and writes its audit rows, in the caller's
transaction, and returns a ``Transition`` naming the pages and notice to make; it queues no
message and raises no other alert (``effects.carry_out`` does, in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custody_watch.alerts.codes import new_ack_code
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.transition import NOTHING, Notice, Page, Transition, addressed
from custody_watch.domain import Finding, Severity
from custody_watch.domain.states import LIVE_STATES, AlertState
from custody_watch.escalation import steps as ladder_steps
from custody_watch.escalation.ladders import Ladders, from_json, to_json
from custody_watch.store import audit, outbox
from custody_watch.store.schema import AlertRow, FindingRow

LIVE = LIVE_STATES


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alert is about: its live key (``detention:<ref>``, ``feed_stale:<source>``)
    and, for a detention, the record it names. ``summary``: a system alert's line;
    ``ladders``: its own ladders (default: the configured ones)."""

    key: str
    detention_id: int | None = None
    custody_ref: str | None = None
    suite: str | None = None
    force: str | None = None
    summary: str = ""
    ladders: Ladders | None = None


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
    subject: Subject,
    findings: Sequence[Finding],
    deps: AlertDeps,
    now: datetime,
    cause: str = "",
) -> Transition:
    """Bring the live alert for ``subject`` in line with ``findings`` (see module doc):
    1. none left: resolve the live alert, if any;
    2. no live alert: open one (or, having lost the race to open it, take the other's);
    3. record the findings, then a rise or fall of the alert's severity."""
    alert = live_alert(session, subject.key)
    if not findings:
        if alert is None:
            return NOTHING
        return resolve(session, alert, now, cause or "all findings cleared")
    severity = max((f.severity for f in findings), key=lambda s: s.rank)
    if alert is None:
        opened = _open(session, subject, severity, deps, now)
        if opened is not None:
            _sync_findings(session, opened, findings, now)
            page = start_ladder(opened, deps, now, "alert opened")
            return Transition(opened, opened=True, pages=page)
        # Another daemon opened it a moment ago (and paged level 1): bring theirs up to date.
        alert = live_alert(session, subject.key)
        if alert is None:
            return NOTHING
    _sync_findings(session, alert, findings, now)
    if subject.summary:
        alert.summary = subject.summary
    return _resever(session, alert, severity, deps, now)


def _resever(
    session: Session, alert: AlertRow, severity: Severity, deps: AlertDeps, now: datetime
) -> Transition:
    """The alert's severity follows its findings': a rise ends any acknowledgement and
    starts the ladder again at level 1; a fall is recorded and the ladder goes on."""
    current = Severity(alert.severity)
    pages: tuple[Page, ...] = ()
    if severity > current:
        alert.severity = severity.value
        reopened = alert.state == AlertState.ACKNOWLEDGED
        # A re-raise starts a new round before its pages go out: their links carry it, and
        # links sent for the lower severity stop working.
        end_acknowledgement(alert)
        audit.record(
            session,
            now,
            "severity_raised",
            detail=f"{current.value} -> {severity.value}"
            + ("; acknowledgement ended" if reopened else ""),
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
        pages = start_ladder(alert, deps, now, f"severity rose to {severity.value}")
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
    return Transition(alert, raised=severity > current, pages=pages)


def end_acknowledgement(alert: AlertRow) -> None:
    """The alert is ``open`` again (its severity rose, or its acknowledgement timed out):
    nobody owns it, and a new round starts, so links sent before cannot silence the pages
    that follow. The caller moves ``version``."""
    alert.state = AlertState.OPEN
    alert.acknowledged_at = None
    alert.acknowledged_by = None
    alert.ack_expires_at = None
    alert.ack_round += 1


def resolve(session: Session, alert: AlertRow, now: datetime, cause: str) -> Transition:
    """Resolve ``alert``: its findings clear, its unsent pages are cancelled, and everyone
    told of it is to hear why (the returned notice)."""
    alert.state = AlertState.RESOLVED
    alert.resolved_at = now
    alert.live_key = None
    alert.live_ack_code = None
    alert.next_action_at = None
    alert.version += 1
    alert.ack_round += 1  # the round ends: its links stop working
    for row in _active_findings(session, alert.id):
        row.cleared_at = now
    outbox.cancel_pages(session, alert.id)
    audit.record(
        session, now, "resolved", detail=cause, alert_id=alert.id, custody_ref=alert.custody_ref
    )
    told = tuple(outbox.told(session, alert.id))
    return Transition(alert, resolved=True, notice=Notice("resolved", told, cause))


def _open(
    session: Session, subject: Subject, severity: Severity, deps: AlertDeps, now: datetime
) -> AlertRow | None:
    """A new live alert, or None when another daemon holds the subject's live alert."""
    ladders = subject.ladders if subject.ladders is not None else deps.ladders
    alert = AlertRow(
        subject=subject.key,
        live_key=subject.key,
        detention_id=subject.detention_id,
        custody_ref=subject.custody_ref,
        suite=subject.suite,
        force=subject.force,
        state=AlertState.OPEN,
        severity=severity.value,
        opened_severity=severity.value,
        summary=subject.summary,
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
        detail=f"{severity.value}" + (f": {subject.summary}" if subject.summary else ""),
        alert_id=alert.id,
        custody_ref=subject.custody_ref,
    )
    return alert


def start_ladder(alert: AlertRow, deps: AlertDeps, now: datetime, reason: str) -> tuple[Page, ...]:
    """(Re)start the alert's ladder at level 1 now: the page to make, and the next step's
    time on the alert. No ladder for its severity (info): recorded and shown, nobody paged."""
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if ladder is None:
        alert.level = -1
        alert.next_action_at = None
        return ()
    first = ladder_steps.start(ladder, now, reason)
    page = Page(ladder.levels[first.level], first.level, reason)
    alert.level = first.position
    alert.next_action_at = first.next_at
    return (addressed(page, alert, deps.directory, now),)


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
