"""The custody board: every child in custody now, as one triage list across suites.

Sorted by what needs action first (the highest severity, then the soonest statutory
deadline), with a summary strip, filters kept in the URL, and each card's legal clock, paging
state and next step. Clocks are worked out here, on the server's clock (which ``--now`` may
have set), and sent as ISO instants; a few lines of script tick them between updates, and
htmx swaps in a fresh list every 15 s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from custody_watch.domain import Detention, Finding, LegalBasis, Severity
from custody_watch.domain.states import AlertState
from custody_watch.escalation.ladders import from_json
from custody_watch.rules import assess, pace, safety
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import NEVER
from custody_watch.rules.policy import Policy
from custody_watch.store import detentions
from custody_watch.store.schema import AlertNoteRow, AlertRow, DetentionRow, OutboxRow
from custody_watch.times import format_duration, format_local
from custody_watch.web.auth import User, page_user
from custody_watch.web.templating import render, stale_feeds


@dataclass(frozen=True, slots=True)
class Deadline:
    at: datetime | None
    note: str  # what the deadline is, or why there is none
    rule: str = ""  # the rule whose limit it is


@dataclass(frozen=True, slots=True)
class Paging:
    """Where an alert stands on its escalation ladder, for the card: who was paged, at
    which level of the ladder (repeats of the last level counted apart, not as levels), how
    long nobody has acknowledged, and what happens next and when."""

    level: int  # 1-based level of the ladder last notified
    levels: int  # how many levels the ladder has
    repeat: int  # times the last level has been notified again (0: none)
    paged: tuple[str, ...]  # people last paged (person ids)
    paged_at: datetime | None
    unacknowledged_since: datetime | None  # None once acknowledged
    next_at: datetime | None
    next_step: str  # what happens at next_at, for people

    @property
    def ladder_label(self) -> str:
        return level_label(self.level, self.levels, self.repeat)


def level_label(level: int, levels: int, repeat: int) -> str:
    label = f"level {level} of {levels}"
    return f"{label}, repeat {repeat}" if repeat else label


def ladder_label(alert: AlertRow) -> str | None:
    """``level 2 of 2, repeat 3``: where the alert stands, for the alerts list; None before
    any page or for a severity without a ladder."""
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if ladder is None or alert.level < 0:
        return None
    return level_label(
        min(alert.level, ladder.last) + 1, ladder.last + 1, max(0, alert.level - ladder.last)
    )


@dataclass(frozen=True, slots=True)
class Note:
    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class AlertCard:
    """A detention's live alert as its card on the board shows it: a view read from the
    alert's row, paging and notes (the alert's states are ``domain.states.AlertState``)."""

    id: int
    state: str
    severity: str
    ack_code: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    snooze_reason: str | None = None
    assigned_to: str | None = None
    paging: Paging | None = None
    notes: tuple[Note, ...] = ()


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
    alert: AlertCard | None
    # The statutory clocks for this child's legal basis (PACE limit and review; s.136's 24h
    # or its extension; police protection's 72h), soonest first.
    clocks: tuple[Deadline, ...] = ()
    looked_after: bool = False

    @property
    def severity(self) -> str | None:
        return self.findings[0].severity.value if self.findings else None

    @property
    def rank(self) -> int:
        return self.findings[0].severity.rank if self.findings else -1

    @property
    def next_breach(self) -> datetime | None:
        """The soonest statutory deadline (passed ones are sooner still)."""
        return min((c.at for c in self.clocks if c.at is not None), default=None)

    @property
    def unacknowledged(self) -> bool:
        return self.alert is not None and self.alert.state == AlertState.OPEN


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
    """Every child in custody now, in triage order (see ``triage_key``)."""
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
    extras = _alert_extras(session, list(alerts.values()), now)
    # repeat_detention needs the person's other detentions: one query for the whole board.
    # Each record is read once: for the ask and for its card.
    loaded = [(row, detentions.load(row)) for row in rows]
    lookback = policy.repeat_detention.lookback
    asks = [detentions.same_person_ask(d, lookback, now) for _, d in loaded]
    others = detentions.same_person_arrivals_of(session, [a for a in asks if a is not None])
    entries = [
        entry(
            row,
            alerts.get(row.id),
            policy,
            now,
            extras.get(alerts[row.id].id) if row.id in alerts else None,
            others.get(row.custody_ref, ()),
            detention=detention,
        )
        for row, detention in loaded
    ]
    entries.sort(key=triage_key)
    return entries


def triage_key(e: BoardEntry) -> tuple[int, datetime, datetime]:
    """What needs action first: the highest severity, then the soonest statutory deadline
    (one already passed is sooner still), then the longest held."""
    return (-e.rank, e.next_breach or NEVER, e.arrival)


def entry(
    row: DetentionRow,
    alert: AlertRow | None,
    policy: Policy,
    now: datetime,
    extras: tuple[Paging | None, tuple[Note, ...]] | None = None,
    same_person_arrivals: Sequence[datetime] = (),
    *,
    detention: Detention | None = None,
) -> BoardEntry:
    """``detention``: the row's record already read (``board_entries`` reads each once)."""
    detention = detention if detention is not None else detentions.load(row)
    facts = Facts.of(detention, policy, now)
    found = clocks(facts, policy)
    limits = {c.rule: c.at for c in found if c.at is not None}

    def lead_first(f: Finding) -> tuple[int, datetime, datetime, str]:
        # The one to act on first: the most severe, then the one nearest its statutory limit
        # (one passed is nearest of all), then the oldest.
        return (-f.severity.rank, limits.get(f.rule, NEVER), f.since, f.rule)

    findings = tuple(
        sorted(
            assess(detention, policy, now, same_person_arrivals=same_person_arrivals).findings,
            key=lead_first,
        )
    )
    paging, notes = extras if extras is not None else (None, ())
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
        else AlertCard(
            alert.id,
            alert.state,
            alert.severity,
            alert.ack_code,
            alert.acknowledged_by,
            alert.acknowledged_at,
            snoozed_until=alert.snoozed_until
            if alert.snoozed_until is not None and alert.snoozed_until > now
            else None,
            snoozed_by=alert.snoozed_by,
            snooze_reason=alert.snooze_reason,
            assigned_to=alert.assigned_to,
            paging=paging,
            notes=notes,
        ),
        clocks=found,
        looked_after=detention.looked_after,
    )


def _step(steps: Sequence[tuple[Severity, datetime]], severity: Severity) -> datetime | None:
    return next((at for level, at in steps if level is severity and at < NEVER), None)


def clocks(facts: Facts, policy: Policy) -> tuple[Deadline, ...]:
    """The deadlines the law sets for this child's legal basis, soonest first: PACE's
    detention limit and review (s.41-44, s.40); the Mental Health Act's 24 hours at a place of
    safety, or its extension (s.136(2A), s.136B); police protection's 72 hours (Children Act
    1989 s.46(6)). Each is the instant its rule turns critical (RULES.md), except the review,
    which is due when its rule turns high."""
    found: list[Deadline] = []
    limit = _pace_limit(facts, policy)
    if limit.at is not None:
        found.append(limit)
    review = _next_review(facts, policy)
    if review.at is not None:
        found.append(review)
    d = facts.detention
    place = safety.place_of_safety_limit(facts, policy)
    if place is not None:
        extended = facts.counts(d.mha_extension_time, d.mha_extension_until)
        act = "s.135" if d.legal_basis.value == "mha_s135" else "s.136"
        what = f"{act} limit (extended)" if extended else f"{act} limit (24h)"
        found.append(Deadline(_step(place.steps, Severity.CRITICAL), what, "place_of_safety_limit"))
    protection = safety.police_protection_limit(facts, policy)
    if protection is not None:
        at = _step(protection.steps, Severity.CRITICAL)
        found.append(Deadline(at, "police protection (72h)", "police_protection_limit"))
    return tuple(sorted(found, key=lambda c: c.at or NEVER))


def _pace_limit(facts: Facts, policy: Policy) -> Deadline:
    assessment = pace.pace_limit(facts, policy)
    if assessment is None:
        return Deadline(None, "charged" if facts.charged else "not a PACE detention")
    return Deadline(_step(assessment.steps, Severity.CRITICAL), "PACE limit", "pace_limit")


def _next_review(facts: Facts, policy: Policy) -> Deadline:
    assessment = pace.review_overdue(facts, policy)
    if assessment is None:
        return Deadline(None, "no PACE reviews")
    basis = "first review" if facts.latest_review() is None else "next review"
    return Deadline(_step(assessment.steps, Severity.HIGH), basis, "review_overdue")


def _appropriate_adult(facts: Facts, policy: Policy) -> tuple[str, bool]:
    d = facts.detention
    zone = policy.zone
    if d.legal_basis is LegalBasis.POLICE_PROTECTION:
        # Code C 3.15 is about detained people; a child in police protection is not one.
        return "not required (police protection)", True
    if facts.reached(d.appropriate_adult_arrived_time):
        assert d.appropriate_adult_arrived_time is not None
        since = format_local(d.appropriate_adult_arrived_time, zone, with_date=False)
        return f"present since {since}", True
    if facts.reached(d.appropriate_adult_requested_time):
        assert d.appropriate_adult_requested_time is not None
        asked = d.appropriate_adult_requested_time
        return (
            f"requested {format_local(asked, zone, with_date=False)}, not arrived "
            f"({format_duration(facts.now - asked)})",
            False,
        )
    return "not requested", False


# -- the alert's place on its ladder, snooze and notes ----------------------------------------


def _alert_extras(
    session: Session, alerts: Sequence[AlertRow], now: datetime
) -> dict[int, tuple[Paging | None, tuple[Note, ...]]]:
    ids = [a.id for a in alerts]
    if not ids:
        return {}
    pages: dict[int, list[OutboxRow]] = {}
    for message in session.scalars(
        select(OutboxRow)
        .where(OutboxRow.alert_id.in_(ids), OutboxRow.purpose == "notify")
        .order_by(OutboxRow.created_at, OutboxRow.id)
    ):
        pages.setdefault(message.alert_id or 0, []).append(message)
    notes: dict[int, list[Note]] = {}
    for note in session.scalars(
        select(AlertNoteRow)
        .where(AlertNoteRow.alert_id.in_(ids))
        .order_by(AlertNoteRow.at, AlertNoteRow.id)
    ):
        notes.setdefault(note.alert_id, []).append(Note(note.at, note.author, note.text))
    return {a.id: (paging(a, pages.get(a.id, []), now), tuple(notes.get(a.id, ()))) for a in alerts}


def paging(alert: AlertRow, pages: Sequence[OutboxRow], now: datetime) -> Paging | None:
    """The alert's place on its ladder. ``alert.level`` counts every notification since the
    ladder (re)started, repeats of the last level included; people read the ladder's level
    and the repeat apart ("level 2 of 2, repeat 3")."""
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    if ladder is None or alert.level < 0:
        return None
    position = alert.level
    level = min(position, ladder.last)
    repeat = max(0, position - ladder.last)
    last_paged = [p for p in pages if p.level == level]
    paged_at = last_paged[-1].created_at if last_paged else None
    paged = tuple(dict.fromkeys(p.person_id for p in last_paged if p.created_at == paged_at))
    restarted = [p.created_at for p in pages if p.level == 0]
    if alert.state == AlertState.OPEN:
        # Since the ladder last (re)started at level 1: an acknowledgement that timed out
        # starts it again, and the wait counts from then.
        unacked: datetime | None = restarted[-1] if restarted else alert.first_notified_at
        unacked = unacked or alert.opened_at
    else:
        unacked = None
    next_at = alert.next_action_at
    if alert.state == AlertState.ACKNOWLEDGED:
        step = f"acknowledged by {alert.acknowledged_by}; pages again if still live"
        next_at = alert.ack_expires_at or next_at
    elif alert.snoozed_until is not None and alert.snoozed_until > now:
        step = f"snoozed; paging resumes at level {level + 1}"
        next_at = alert.snoozed_until
    elif next_at is None:
        step = "no further step"
    elif position + 1 <= ladder.last:
        who = ", ".join(ladder.levels[position + 1].notify)
        step = f"escalates to level {position + 2} of {ladder.last + 1} ({who})"
    else:
        step = f"repeats level {ladder.last + 1} ({', '.join(ladder.levels[-1].notify)})"
    return Paging(
        level=level + 1,
        levels=ladder.last + 1,
        repeat=repeat,
        paged=paged,
        paged_at=paged_at,
        unacknowledged_since=unacked,
        next_at=next_at,
        next_step=step,
    )


# -- the page -----------------------------------------------------------------------------------


SEVERITIES = ("critical", "high", "warning", "info", "none")


@dataclass(frozen=True, slots=True)
class Filters:
    """The board's filters, kept in the URL's query so a filtered board can be bookmarked,
    shared and reloaded (and the live updates ask for the same)."""

    force: str = ""
    suite: str = ""
    severity: str = ""  # one of SEVERITIES, or "" for all
    unacknowledged: bool = False
    group: bool = False  # grouped by suite rather than one triage list

    @classmethod
    def of(cls, request: Request) -> Filters:
        q = request.query_params
        severity = q.get("severity", "")
        return cls(
            force=q.get("force", "").strip(),
            suite=q.get("suite", "").strip(),
            severity=severity if severity in SEVERITIES else "",
            unacknowledged=q.get("unacknowledged", "") in ("1", "on", "true"),
            group=q.get("group", "") == "suite",
        )

    @property
    def active(self) -> bool:
        return bool(self.force or self.suite or self.severity or self.unacknowledged)

    def keep(self, e: BoardEntry) -> bool:
        return (
            (not self.force or (e.force or "") == self.force)
            and (not self.suite or e.suite == self.suite)
            and (not self.severity or (e.severity or "none") == self.severity)
            and (not self.unacknowledged or e.unacknowledged)
        )

    def query(self) -> str:
        pairs = [
            ("force", self.force),
            ("suite", self.suite),
            ("severity", self.severity),
            ("unacknowledged", "1" if self.unacknowledged else ""),
            ("group", "suite" if self.group else ""),
        ]
        return urlencode([(k, v) for k, v in pairs if v])


@dataclass(frozen=True, slots=True)
class Summary:
    children: int
    by_severity: dict[str, int]
    unacknowledged: int
    stale_feeds: int


def summary(entries: Sequence[BoardEntry], stale_feeds: int) -> Summary:
    counts = dict.fromkeys(SEVERITIES, 0)
    for e in entries:
        counts[e.severity or "none"] += 1
    return Summary(len(entries), counts, sum(1 for e in entries if e.unacknowledged), stale_feeds)


def by_suite(entries: Sequence[BoardEntry]) -> dict[str, list[BoardEntry]]:
    suites: dict[str, list[BoardEntry]] = {}
    for item in entries:
        suites.setdefault(item.suite, []).append(item)
    return dict(sorted(suites.items()))


router = APIRouter()


def _board(request: Request, user: User, template: str) -> HTMLResponse:
    web = request.app.state.web
    now = web.clock.now()
    filters = Filters.of(request)
    with web.sessions.begin() as session:
        entries = board_entries(session, web.policy, now)
        unattached = session.scalars(
            select(AlertRow)
            .where(AlertRow.live_key.is_not(None), AlertRow.detention_id.is_(None))
            .order_by(AlertRow.opened_at)
        ).all()
    stale = stale_feeds(web, now)
    shown = [e for e in entries if filters.keep(e)]
    return render(
        request,
        template,
        user=user,
        title="Custody board",
        entries=shown,
        suites=by_suite(shown) if filters.group else {},
        count=len(entries),
        summary=summary(entries, len(stale)),
        filters=filters,
        forces=sorted({e.force for e in entries if e.force}),
        suite_names=sorted({e.suite for e in entries}),
        severities=SEVERITIES,
        system_alerts=unattached,
        stale_feeds=stale,
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def board(request: Request, user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
    return _board(request, user, "board.html")


@router.get("/board/live", response_class=HTMLResponse, include_in_schema=False)
def board_live(request: Request, user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
    """The summary and the list alone, which the board asks for every 15 s (htmx) and swaps
    in place: live without a full reload, keeping the reader's scroll position."""
    return _board(request, user, "board_live.html")
