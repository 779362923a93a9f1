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
