"""The custody board: every child in custody now, by suite, with live clocks.

Clocks are worked out here, on the server's clock (which ``--now`` may have set), and sent
as ISO instants; a few lines of script tick them between page loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from custody_watch.domain import Finding, Severity
from custody_watch.rules import assess, pace
from custody_watch.rules.facts import Facts
from custody_watch.rules.policy import Policy
from custody_watch.store import detentions
from custody_watch.store.schema import AlertRow, DetentionRow
from custody_watch.web.auth import User, page_user
from custody_watch.web.templating import render


@dataclass(frozen=True, slots=True)
class Deadline:
    at: datetime | None
    note: str  # what the deadline is, or why there is none


@dataclass(frozen=True, slots=True)
class AlertState:
    id: int
    state: str
    severity: str
    ack_code: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class BoardEntry:
    custody_ref: str
    suite: str
    force: str | None
    age: int | None
    legal_basis: str
    arrival: datetime
    held: timedelta
    pace_limit: Deadline
    next_review: Deadline
    appropriate_adult: str
    appropriate_adult_ok: bool
    findings: tuple[Finding, ...]
    alert: AlertState | None

    @property
    def severity(self) -> str | None:
        return self.findings[0].severity.value if self.findings else None


def children_in_custody(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Arrived by ``now``, not released by ``now``, and a child when they were stored."""
    return (
        DetentionRow.arrival_time <= now,
        or_(DetentionRow.released_time.is_(None), DetentionRow.released_time > now),
        DetentionRow.is_child.is_(True),
    )


def in_custody(session: Session, now: datetime) -> list[DetentionRow]:
    return list(session.scalars(in_custody_query(now)))


def in_custody_query(now: datetime) -> Select[DetentionRow]:
    query = select(DetentionRow).where(*children_in_custody(now))
    return query.order_by(DetentionRow.suite, DetentionRow.arrival_time)


def board_entries(session: Session, policy: Policy, now: datetime) -> list[BoardEntry]:
    rows = in_custody(session, now)
    alerts = {
        alert.detention_id: alert
        for alert in session.scalars(
            select(AlertRow).where(
                AlertRow.detention_id.in_([row.id for row in rows]),
                AlertRow.live_key.is_not(None),
            )
        )
    }
    entries = [entry(row, alerts.get(row.id), policy, now) for row in rows]
    entries.sort(
        key=lambda e: (e.suite, -(e.findings[0].severity.rank if e.findings else -1), e.arrival)
    )
    return entries


def entry(row: DetentionRow, alert: AlertRow | None, policy: Policy, now: datetime) -> BoardEntry:
    detention = detentions.load(row)
    facts = Facts.of(detention, policy, now)
    findings = tuple(sorted(assess(detention, policy, now).findings, key=Finding.sort_key))
    return BoardEntry(
        custody_ref=row.custody_ref,
        suite=row.suite,
        force=row.force,
        age=facts.age,
        legal_basis=detention.legal_basis.value,
        arrival=detention.arrival_time,
        held=now - detention.arrival_time,
        pace_limit=_pace_limit(facts, policy),
        next_review=_next_review(facts, policy),
        appropriate_adult=_appropriate_adult(facts, policy)[0],
        appropriate_adult_ok=_appropriate_adult(facts, policy)[1],
        findings=findings,
        alert=None
        if alert is None
        else AlertState(
            alert.id,
            alert.state,
            alert.severity,
            alert.ack_code,
            alert.acknowledged_by,
            alert.acknowledged_at,
        ),
    )


def _step(steps: Sequence[tuple[Severity, datetime]], severity: Severity) -> datetime | None:
    return next((at for level, at in steps if level is severity), None)


def _pace_limit(facts: Facts, policy: Policy) -> Deadline:
    assessment = pace.pace_limit(facts, policy)
    if assessment is None:
        return Deadline(None, "charged" if facts.charged else "not a PACE detention")
    return Deadline(_step(assessment.steps, Severity.CRITICAL), "PACE limit")


def _next_review(facts: Facts, policy: Policy) -> Deadline:
    assessment = pace.review_overdue(facts, policy)
    if assessment is None:
        return Deadline(None, "no PACE reviews")
    basis = "first review" if facts.latest_review() is None else "next review"
    return Deadline(_step(assessment.steps, Severity.HIGH), basis)


def _appropriate_adult(facts: Facts, policy: Policy) -> tuple[str, bool]:
    d = facts.detention
    zone = policy.zone
    if facts.reached(d.appropriate_adult_arrived_time):
        assert d.appropriate_adult_arrived_time is not None
        return f"present since {d.appropriate_adult_arrived_time.astimezone(zone):%H:%M}", True
    if facts.reached(d.appropriate_adult_requested_time):
        assert d.appropriate_adult_requested_time is not None
        waited = facts.now - d.appropriate_adult_requested_time
        minutes = int(waited.total_seconds() // 60)
        return (
            f"requested {d.appropriate_adult_requested_time.astimezone(zone):%H:%M}, "
            f"not arrived ({minutes // 60}h {minutes % 60:02d}m)",
            False,
        )
    return "not requested", False


def by_suite(entries: Sequence[BoardEntry]) -> dict[str, list[BoardEntry]]:
    suites: dict[str, list[BoardEntry]] = {}
    for item in entries:
        suites.setdefault(item.suite, []).append(item)
    return suites


router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def board(request: Request, user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
    web = request.app.state.web
    now = web.clock.now()
    with web.sessions.begin() as session:
        entries = board_entries(session, web.policy, now)
        unattached = session.scalars(
            select(AlertRow)
            .where(AlertRow.live_key.is_not(None), AlertRow.detention_id.is_(None))
            .order_by(AlertRow.opened_at)
        ).all()
    return render(
        request,
        "board.html",
        user=user,
        title="Custody board",
        suites=by_suite(entries),
        count=len(entries),
        system_alerts=unattached,
        refresh=60,
    )
