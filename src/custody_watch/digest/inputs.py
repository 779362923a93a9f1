"""What the digest counts, as plain values: ``collect`` reads them from the store, and tests
build them by hand. Times are aware UTC instants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from custody_watch.domain import Detention


@dataclass(frozen=True, slots=True)
class AlertFact:
    id: int
    subject: str
    custody_ref: str | None
    suite: str | None
    force: str | None
    opened_at: datetime
    opened_severity: str
    first_notified_at: datetime | None
    first_acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    at: datetime
    person_id: str
    channel: str
    suite: str | None = None
    force: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRow:
    received_at: datetime
    source: str
    suite: str | None = None  # when the row could be traced to a suite


@dataclass(frozen=True, slots=True)
class FailedPoll:
    source: str
    at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class SilentPeriod:
    """A ``feed_stale`` alert: the source delivered nothing from ``start`` to ``end``."""

    source: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class SourceInfo:
    name: str
    first_poll_at: datetime | None


@dataclass(frozen=True, slots=True)
class EarlierArrival:
    """Another stored detention of a person, for ``repeat_detention``: only its arrival and
    reference matter (RULES.md, Precise reading 11: whatever its own state)."""

    person_ref: str
    custody_ref: str
    arrival_time: datetime


@dataclass(frozen=True, slots=True)
class CaseReview:
    """A supervisor's case review of one detention (v2), whenever the detention was."""

    custody_ref: str
    suite: str
    force: str | None
    grade: str
    at: datetime


@dataclass(frozen=True, slots=True)
class NoteFact:
    """A handover note written on an alert: who, when, on which alert. Never its text:
    notes are typed freely and may name a child, and the digest names no one."""

    at: datetime
    author: str
    alert_id: int
    custody_ref: str | None
    suite: str | None
    ack_code: str


@dataclass(frozen=True, slots=True)
class DigestInputs:
    detentions: Sequence[Detention] = ()
    alerts: Sequence[AlertFact] = ()
    delivery_failures: Sequence[DeliveryFailure] = ()
    rejected: Sequence[RejectedRow] = ()
    failed_polls: Sequence[FailedPoll] = ()
    silent_periods: Sequence[SilentPeriod] = ()
    sources: Sequence[SourceInfo] = ()
    # Stored records that could not be read back (counted, never silently dropped).
    unreadable_records: int = 0
    # v2: other detentions of the same people (``detentions`` count as such too), and case
    # reviews of detentions not in ``detentions`` (reviewed long after release).
    earlier_arrivals: Sequence[EarlierArrival] = ()
    case_reviews: Sequence[CaseReview] = ()
    # Handover notes written in the window (issue 13): listed, their text left on the alert.
    notes: Sequence[NoteFact] = ()
