"""Rows -> what the store keeps of them: the CPU half of ingest, with no database in sight.

Everything here is a pure function of the rows and two time zones, and its result is plain
picklable data, so a backfill can run it in worker processes while the main process writes
(``ingest.workers``); a poll runs it in-process."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import NamedTuple

import orjson

from custody_watch.domain import Detention, age_on
from custody_watch.ingest.parse import read_each
from custody_watch.ingest.record import as_given, to_record
from custody_watch.ingest.result import Rejection
from custody_watch.sources.base import SourceRow
from custody_watch.times import LONDON, utc_text

ADULT_AGE = 18


class PreparedRow(NamedTuple):
    """One accepted row as the store keeps it. A tuple of text and numbers, because a
    backfill sends tens of thousands of these between processes and that is the cheapest
    thing to pickle: instants are ``times.utc_text`` (naive UTC, sorts as time does)."""

    row: int  # the feed's row number, for audit
    custody_ref: str
    suite: str
    force: str | None
    arrival_time: str
    released_time: str | None
    updated_at: str | None
    is_child: bool  # or of unknown age: a child until the record says otherwise
    record_json: str  # the record in the interchange form, as JSON text
    # For repeat_detention's indexed look-up of a person's other detentions (RULES.md, v2).
    person_ref: str | None = None


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
    for item in read_each(rows, naive_zone=zones.naive, local_zone=zones.local):
        if isinstance(item, Rejection):
            prepared.rows += item.row != 0  # a whole-file problem (row 0) is not a row
            reject(item)
            continue
        prepared.rows += 1
        row, fields = item
        # The checked fields, not a Detention: building one costs more than all the rest.
        record = as_given(row.values) if as_source_gave else to_record(Detention(**fields))
        get = fields.get
        accept(
            PreparedRow(
                row.number,
                fields["custody_ref"],
                fields["suite"],
                get("force"),
                utc_text(fields["arrival_time"]),
                _text_or_none(get("released_time")),
                _text_or_none(get("updated_at")),
                is_child(
                    get("date_of_birth"), get("arrest_time") or fields["arrival_time"], zones.local
                ),
                record_json(record),
                get("person_ref"),
            )
        )
    return prepared


def prepared_row(
    number: int, detention: Detention, record: Mapping[str, object], local: tzinfo
) -> PreparedRow:
    """One detention already read (not from a feed row), prepared for the store."""
    return PreparedRow(
        number,
        detention.custody_ref,
        detention.suite,
        detention.force,
        utc_text(detention.arrival_time),
        _text_or_none(detention.released_time),
        _text_or_none(detention.updated_at),
        is_child(detention.date_of_birth, detention.arrest_time or detention.arrival_time, local),
        record_json(record),
        detention.person_ref,
    )


def record_json(record: Mapping[str, object]) -> str:
    """A record as compact JSON text. orjson, which writes it many times faster than
    ``json``, is exact here: a record's values are text, lists of text or whole numbers
    (``read_fields`` has checked every field a record keeps). It would write a non-finite
    float as null; none can reach a record. An integer beyond 64 bits goes to ``json``."""
    try:
        return orjson.dumps(record).decode()
    except TypeError:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def is_child(born: date | None, start: datetime, local: tzinfo) -> bool:
    """Under 18 on the local date ``start`` (arrest, else arrival); without a date of birth,
    a child (the safeguarding rules must look at anyone who might be one)."""
    if born is None:
        return True
    return age_on(born, start.astimezone(local).date()) < ADULT_AGE


def _text_or_none(at: datetime | None) -> str | None:
    return None if at is None else utc_text(at)
