"""Rows -> what the store keeps of them: the CPU half of ingest, with no database in sight.

Everything here is a pure function of the rows and two time zones, and its result is plain
picklable data, so a backfill can run it in worker processes while the main process writes
(``ingest.workers``); a poll runs it in-process."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import NamedTuple

from custody_watch.domain import Detention, age_on
from custody_watch.ingest.parse import RowError, parse_row
from custody_watch.ingest.record import as_given, to_record
from custody_watch.ingest.result import Rejection
from custody_watch.ingest.rows import SourceRow, row_ref
from custody_watch.times import LONDON

ADULT_AGE = 18


class PreparedRow(NamedTuple):
    """One accepted row as the store keeps it. A tuple, because a backfill sends tens of
    thousands of these between processes and tuples are the cheapest thing to pickle."""

    row: int  # the feed's row number, for audit
    custody_ref: str
    suite: str
    force: str | None
    arrival_time: datetime
    released_time: datetime | None
    updated_at: datetime | None
    is_child: bool  # or of unknown age: a child until the record says otherwise
    record_json: str  # the record in the interchange form, as JSON text


@dataclass(frozen=True, slots=True)
class Zones:
    """How times are read: ``naive`` for times without an offset (None: refuse them), and
    ``local`` for calendar dates (a date of birth, the day of arrival)."""

    naive: tzinfo | None = None
    local: tzinfo = LONDON


@dataclass(slots=True)
class Prepared:
    """One batch of rows, prepared: accepted rows in feed order, and the rejected ones."""

    rows: int = 0
    accepted: list[PreparedRow] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def prepare_rows(rows: Iterable[SourceRow], zones: Zones) -> Prepared:
    """Read every row; never raises for a bad one (it is rejected, naming row and field)."""
    prepared = Prepared()
    accept, reject = prepared.accepted.append, prepared.rejected.append
    # With no naive zone every accepted time carries its offset, so the record can be kept
    # exactly as the source gave it; otherwise it is kept in the normal UTC form.
    as_source_gave = zones.naive is None
    for row in rows:
        prepared.rows += 1
        if row.problem is not None:
            reject(Rejection(row.number, None, row.problem, row.raw))
            continue
        try:
            detention = parse_row(row.values, naive_zone=zones.naive, local_zone=zones.local)
        except RowError as exc:
            reject(Rejection(row.number, row_ref(row), str(exc), row.raw))
            continue
        record = as_given(row.values) if as_source_gave else to_record(detention)
        accept(prepared_row(row.number, detention, record, zones.local))
    return prepared


def prepared_row(
    number: int, detention: Detention, record: Mapping[str, object], local: tzinfo
) -> PreparedRow:
    return PreparedRow(
        number,
        detention.custody_ref,
        detention.suite,
        detention.force,
        detention.arrival_time,
        detention.released_time,
        detention.updated_at,
        is_child(detention, local),
        json.dumps(record, ensure_ascii=False, separators=(",", ":")),
    )


def is_child(detention: Detention, local: tzinfo) -> bool:
    """Under 18 on the local date of arrest, else of arrival; without a date of birth, a
    child (the safeguarding rules must look at anyone who might be one)."""
    born = detention.date_of_birth
    if born is None:
        return True
    start = detention.arrest_time or detention.arrival_time
    return age_on(born, start.astimezone(local).date()) < ADULT_AGE
