"""Store queries -> the plain inputs that ``figures`` counts.

Only rows that can matter are read: detentions whose custody could meet the window
(``arrival_time < end`` and no release before ``start``), children's detentions for the
history days too, alerts opened or first acknowledged in the period, rejected rows received
in it, failed sends, failed polls and silent feeds.

A rejected row has no trusted suite (it was rejected). It is traced to a suite when the row
itself names one that the store knows (a JSON object's ``suite``, or exactly one CSV cell
equal to a known suite's name), else when its custody ref belongs to a stored detention;
otherwise it counts in ``totals`` only."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from custody_watch.domain import Detention
from custody_watch.domain.states import OutboxState
from custody_watch.ingest.parse import RowError
from custody_watch.rules.policy import Policy
from custody_watch.store import detentions as detention_store
from custody_watch.store.schema import (
    AlertNoteRow,
    AlertRow,
    AuditRow,
    DetentionRow,
    FindingRow,
    OutboxRow,
    QuarantineRow,
    SourceStateRow,
)
from custody_watch.times import utc_iso

from .inputs import (
    AlertFact,
    CaseReview,
    DeliveryFailure,
    DigestInputs,
    EarlierArrival,
    FailedPoll,
    NoteFact,
    RejectedRow,
    SilentPeriod,
    SourceInfo,
)
from .safeguards import share_start
from .trends import HISTORY_DAYS
from .window import Window, digest_window

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK = Policy().repeat_detention.lookback

SOURCE_FAILED = "source_failed"


def collect_for_day(
    session: Session, day: date, at: time, policy: Policy, *, history_days: int | None = None
) -> DigestInputs:
    """Everything the digest dated ``day`` (and its history) needs."""
    window = digest_window(day, at, policy.zone)
    days = max(HISTORY_DAYS) if history_days is None else history_days
    first = digest_window(day - timedelta(days=days), at, policy.zone) if days else window
    return collect(
        session,
        window,
        first.start,
        reviews_from=share_start(day, at, policy.zone),
        repeat_lookback=policy.repeat_detention.lookback,
    )


def collect(
    session: Session,
    window: Window,
    history_start: datetime,
    *,
    reviews_from: datetime | None = None,
    repeat_lookback: timedelta = DEFAULT_LOOKBACK,
) -> DigestInputs:
    start, end = window.start, window.end
    rows = _detention_rows(session, start, end, history_start)
    loaded: list[Detention] = []
    unreadable = 0
    for row in rows:
        try:
            loaded.append(detention_store.load(row))
        except (RowError, ValueError, TypeError, KeyError):
            log.exception("stored record %s cannot be read back", row.custody_ref)
            unreadable += 1
    return DigestInputs(
        detentions=tuple(loaded),
        alerts=tuple(_alerts(session, history_start, end)),
        delivery_failures=tuple(_delivery_failures(session, history_start, end)),
        rejected=tuple(_rejected(session, history_start, end)),
        failed_polls=tuple(_failed_polls(session, start, end)),
        silent_periods=tuple(_silent_periods(session, start, end)),
        sources=tuple(
            SourceInfo(name=s.name, first_poll_at=s.first_poll_at)
            for s in session.scalars(select(SourceStateRow).order_by(SourceStateRow.name))
        ),
        unreadable_records=unreadable,
        earlier_arrivals=tuple(_earlier_arrivals(session, loaded, repeat_lookback)),
        case_reviews=tuple(
            _case_reviews(session, reviews_from or start, end, {row.id for row in rows})
        ),
        notes=tuple(_notes(session, start, end)),
    )


def _notes(session: Session, start: datetime, end: datetime) -> list[NoteFact]:
    """Notes written in the window, oldest first (``alert_notes.at`` is indexed)."""
    query = (
        select(AlertNoteRow.at, AlertNoteRow.author, AlertRow.id, AlertRow.custody_ref)
        .add_columns(AlertRow.suite, AlertRow.ack_code)
        .join(AlertRow, AlertRow.id == AlertNoteRow.alert_id)
        .where(AlertNoteRow.at >= start, AlertNoteRow.at < end)
        .order_by(AlertNoteRow.at, AlertNoteRow.id)
    )
    return [NoteFact(*row) for row in session.execute(query)]


def _earlier_arrivals(
    session: Session, loaded: Sequence[Detention], lookback: timedelta
) -> list[EarlierArrival]:
    """Other stored detentions of the people loaded, arriving in the ``repeat_detention``
    look-back before one of theirs: one index range per chunk of people."""
    people = sorted({d.person_ref for d in loaded if d.person_ref})
    if not people:
        return []
    arrivals = [d.arrival_time for d in loaded if d.person_ref]
    since, until = min(arrivals) - lookback, max(arrivals)
    out: list[EarlierArrival] = []
    columns = (DetentionRow.person_ref, DetentionRow.custody_ref, DetentionRow.arrival_time)
    for chunk in _chunks(people, 500):
        query = select(*columns).where(
            DetentionRow.person_ref.in_(chunk),
            DetentionRow.arrival_time >= since,
            DetentionRow.arrival_time < until,
        )
        out += [
            EarlierArrival(person_ref=person, custody_ref=ref, arrival_time=arrival)
            for person, ref, arrival in session.execute(query).all()
            if person is not None  # never, given the IN: for the type checker
        ]
    return out


# A case review is graded after the detention, often days after release: detentions released
# up to this long before the reviews' 28 days began are looked at (through the released_time
# index), beside those still held.
REVIEWED_WITHIN = timedelta(days=90)


def _case_reviews(
    session: Session, start: datetime, end: datetime, loaded_ids: set[int]
) -> list[CaseReview]:
    """Graded case reviews in ``[start, end)`` of detentions not already loaded. The stored
    record's text narrows the rows in SQL (a day either side, whatever the text's precision);
    each is then read and checked exactly."""
    reviewed = DetentionRow.record["case_review_time"].as_string()
    query = select(DetentionRow).where(
        or_(
            DetentionRow.released_time.is_(None),
            DetentionRow.released_time >= start - REVIEWED_WITHIN,
        ),
        reviewed >= utc_iso(start - timedelta(days=1)),
        reviewed < utc_iso(end + timedelta(days=1)),
    )
    out: list[CaseReview] = []
    for row in session.scalars(query):
        if row.id in loaded_ids:
            continue
        try:
            d = detention_store.load(row)
        except (RowError, ValueError, TypeError, KeyError):
            log.exception("stored record %s cannot be read back", row.custody_ref)
            continue
        at, grade = d.case_review_time, d.case_review_grade
        if at is not None and grade is not None and start <= at < end:
            out.append(CaseReview(d.custody_ref, d.suite, d.force, grade.value, at))
    return out


def _detention_rows(
    session: Session, start: datetime, end: datetime, history_start: datetime
) -> list[DetentionRow]:
    """Every detention that may meet the window, and children's that may meet the history.

    ``released_time >= start`` (not ``>``): a release exactly at the start is not custody
    in the window but is a release in it."""
    rows = session.scalars(meeting(start, end, history_start))
    return sorted(rows, key=lambda row: row.id)  # sorted here: ORDER BY id makes SQLite scan


def meeting(start: datetime, end: datetime, history_start: datetime) -> Select[DetentionRow]:
    """The query for ``_detention_rows``. Its first condition is implied by the rest and is
    there for the planner: it finds rows through the released_time index (tests/store)."""
    since = min(start, history_start)
    day = and_(
        DetentionRow.arrival_time < end,
        or_(DetentionRow.released_time.is_(None), DetentionRow.released_time >= start),
    )
    history = and_(
        DetentionRow.is_child.is_(True),
        DetentionRow.arrival_time < end,
        or_(DetentionRow.released_time.is_(None), DetentionRow.released_time >= history_start),
    )
    lately = or_(DetentionRow.released_time.is_(None), DetentionRow.released_time >= since)
    return select(DetentionRow).where(lately, or_(day, history))


def _alerts(session: Session, start: datetime, end: datetime) -> Iterable[AlertFact]:
    query = (
        select(AlertRow)
        .where(
            or_(
                and_(AlertRow.opened_at >= start, AlertRow.opened_at < end),
                and_(AlertRow.first_acknowledged_at >= start, AlertRow.first_acknowledged_at < end),
            )
        )
        .order_by(AlertRow.id)
    )
    for row in session.scalars(query):
        yield AlertFact(
            id=row.id,
            subject=row.subject,
            custody_ref=row.custody_ref,
            suite=row.suite,
            force=row.force,
            opened_at=row.opened_at,
            opened_severity=row.opened_severity,
            first_notified_at=row.first_notified_at,
            first_acknowledged_at=row.first_acknowledged_at,
        )


def _delivery_failures(
    session: Session, start: datetime, end: datetime
) -> Iterable[DeliveryFailure]:
    """Messages that failed for good. The outbox keeps no failure time; a final failure
    happens when its last try was due, so ``due_at`` dates it (to within a cycle)."""
    query = (
        select(OutboxRow, AlertRow.suite, AlertRow.force)
        .outerjoin(AlertRow, AlertRow.id == OutboxRow.alert_id)
        .where(
            OutboxRow.state == OutboxState.FAILED, OutboxRow.due_at >= start, OutboxRow.due_at < end
        )
        .order_by(OutboxRow.id)
    )
    for row, suite, force in session.execute(query).all():
        yield DeliveryFailure(
            at=row.due_at, person_id=row.person_id, channel=row.channel, suite=suite, force=force
        )


SUITES_SEEN_WITHIN = timedelta(days=28)


def _rejected(session: Session, start: datetime, end: datetime) -> list[RejectedRow]:
    rows = list(
        session.scalars(
            select(QuarantineRow)
            .where(QuarantineRow.received_at >= start, QuarantineRow.received_at < end)
            .order_by(QuarantineRow.id)
        )
    )
    if not rows:
        return []
    # A rejected row may name its suite only in its raw text; it is matched against the
    # suites of detentions in custody in the last four weeks, which the released_time index
    # finds without reading all of history.
    lately = or_(
        DetentionRow.released_time.is_(None),
        DetentionRow.released_time >= start - SUITES_SEEN_WITHIN,
    )
    suites = set(session.scalars(select(DetentionRow.suite).where(lately).distinct()))
    refs = {r.custody_ref for r in rows if r.custody_ref}
    suite_of_ref: dict[str, str] = {}
    for chunk in _chunks(sorted(refs), 500):
        for ref, suite in session.execute(
            select(DetentionRow.custody_ref, DetentionRow.suite).where(
                DetentionRow.custody_ref.in_(chunk)
            )
        ).all():
            suite_of_ref[ref] = suite
    return [
        RejectedRow(
            received_at=r.received_at,
            source=r.source,
            suite=stated_suite(r.raw, suites)
            or (suite_of_ref.get(r.custody_ref) if r.custody_ref else None),
        )
        for r in rows
    ]


def stated_suite(raw: str, known: set[str]) -> str | None:
    """The suite a rejected row names, when it names one the store knows."""
    text = raw.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            suite = value.get("suite")
            return suite.strip() if isinstance(suite, str) and suite.strip() in known else None
    try:
        cells = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return None
    named = {cell.strip() for cell in cells} & known
    return named.pop() if len(named) == 1 else None


def _failed_polls(session: Session, start: datetime, end: datetime) -> Iterable[FailedPoll]:
    query = (
        select(AuditRow)
        .where(AuditRow.at >= start, AuditRow.at < end, AuditRow.event == SOURCE_FAILED)
        .order_by(AuditRow.at, AuditRow.id)
    )
    for row in session.scalars(query):
        source, _sep, error = row.detail.partition(": ")
        yield FailedPoll(source=source, at=row.at, error=error)


def _silent_periods(session: Session, start: datetime, end: datetime) -> Iterable[SilentPeriod]:
    """``feed_stale`` alerts meeting the window: silent from the finding's ``since``."""
    query = (
        select(AlertRow)
        .where(
            AlertRow.subject.like("feed\\_stale:%", escape="\\"),
            AlertRow.opened_at < end,
            or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at > start),
        )
        .order_by(AlertRow.opened_at, AlertRow.id)
    )
    for alert in session.scalars(query):
        since = session.scalar(
            select(FindingRow.since)
            .where(FindingRow.alert_id == alert.id, FindingRow.rule == "feed_stale")
            .order_by(FindingRow.since)
            .limit(1)
        )
        yield SilentPeriod(
            source=alert.subject.partition(":")[2],
            start=since or alert.opened_at,
            end=alert.resolved_at,
        )


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
