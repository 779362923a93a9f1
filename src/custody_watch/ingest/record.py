"""A detention in the interchange form (field name -> text), for storage and audit.

Stored records are read back through ``parse_row``, the same checks as any feed, so a record
in the store can never be something a feed could not have said."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from custody_watch.domain import ABSENCE_FIELDS, Detention
from custody_watch.ingest.parse import FIELDS, parse_row
from custody_watch.times import utc_iso

_KNOWN = frozenset(FIELDS)
_CARRIED = frozenset(ABSENCE_FIELDS)


def to_record(detention: Detention) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(detention, name)
        if value is None or value == () or value is False:
            # A field the feed carried without a value stays, as null: its absence is
            # what a rule reads (RULES.md, Precise reading 15).
            if value is None and detention.carries(name):
                record[name] = None
            continue
        if name == "prior_detention_minutes" and value == 0:
            continue
        record[name] = _text(value)
    return record


def as_given(values: Mapping[str, object]) -> dict[str, Any]:
    """The record's own fields as the source gave them, trimmed, blanks dropped.

    Cheaper than ``to_record`` (no re-formatting of every time) and closer to what the
    source said, for audit. Only for rows that ``parse_row`` accepted without a naive time
    zone: then every time carries its offset and the record reads back the same."""
    record: dict[str, Any] = {}
    # A row has a dozen of the thirty fields: walk the row, not the field list. The order
    # of keys is the source's, which a JSON record does not depend on.
    for name, value in values.items():
        if name not in _KNOWN:
            continue
        if type(value) is str:
            value = value.strip() or None
        if value is None:
            # carried without a value: kept as null (see ``to_record``)
            if name in _CARRIED:
                record[name] = None
            continue
        record[name] = value
    return record


def from_record(record: dict[str, Any]) -> Detention:
    return parse_row(record)


def _text(value: object) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, tuple):
        return [_text(item) for item in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value
