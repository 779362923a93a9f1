"""One row of named values -> a ``Detention``, or the first reason it cannot be one.

The checks are exactly the rejection reasons of the interchange format; every other odd
ordering of times is read as given, because the rules must see what the custody system
recorded, not what we think it should have recorded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Any, TypeVar

from custody_watch.domain import CertificateGround, Detention, LegalBasis, ReleaseReason
from custody_watch.ingest.result import Rejection
from custody_watch.ingest.rows import SourceRow, row_ref
from custody_watch.times import LONDON, TimeValueError, parse_instant

REQUIRED = ("custody_ref", "suite", "arrival_time")
TEXT_FIELDS = ("force", "person_ref")
TIME_FIELDS = (
    "arrest_time",
    "relevant_time",
    "detention_authorised_time",
    "superintendent_extension_time",
    "superintendent_extension_until",
    "warrant_time",
    "warrant_until",
    "mha_extension_time",
    "mha_extension_until",
    "police_protection_start",
    "charged_time",
    "bail_refused_time",
    "la_accommodation_requested_time",
    "s38_certificate_time",
    "appropriate_adult_requested_time",
    "appropriate_adult_arrived_time",
    "released_time",
    "updated_at",
)
_TIMES = ("arrival_time", *TIME_FIELDS)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")

E = TypeVar("E", bound=StrEnum)


class RowError(Exception):
    """Why a row was rejected. ``str()`` gives the contract form ``field: reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def read_each(
    rows: Iterable[SourceRow], *, naive_zone: tzinfo | None, local_zone: tzinfo
) -> Iterator[tuple[SourceRow, dict[str, Any]] | Rejection]:
    """Each row with its checked fields (``read_fields``), or its rejection naming the row
    and the field. Never raises for a bad row."""
    for row in rows:
        if row.problem is not None:
            yield Rejection(row.number, None, row.problem, row.raw)
            continue
        try:
            yield row, read_fields(row.values, naive_zone=naive_zone, local_zone=local_zone)
        except RowError as exc:
            yield Rejection(row.number, row_ref(row), str(exc), row.raw)


def parse_row(
    values: Mapping[str, object],
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
) -> Detention:
    """Build a ``Detention`` from named values; raise ``RowError`` naming the field."""
    return Detention(**read_fields(values, naive_zone=naive_zone, local_zone=local_zone))


def read_fields(
    values: Mapping[str, object],
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
) -> dict[str, Any]:
    """``parse_row``'s checks and conversions without building the ``Detention``: the
    arguments for one, only those the row has (the rest keep Detention's defaults). A
    backfill reads millions of rows and stores only a few fields of each."""
    texts = [_text(values, name) for name in REQUIRED]
    for name, text in zip(REQUIRED, texts, strict=True):
        if text is None:
            raise RowError(name, "required field missing")
    fields: dict[str, Any] = {"custody_ref": texts[0], "suite": texts[1]}
    # Only the times a row has are read (a typical row has a handful of the nineteen). The
    # order of the checks, and so which error a row with several faults reports, is the
    # order of _TIMES.
    get = values.get
    for name in _TIMES:
        value = get(name)
        if value is None:
            continue
        text = value.strip() if type(value) is str else _text(values, name)
        if not text:
            continue
        try:
            fields[name] = parse_instant(text, naive_zone)
        except TimeValueError as exc:
            raise RowError(name, str(exc)) from None
    arrival = fields["arrival_time"]
    released = fields.get("released_time")
    if released is not None and released < arrival:
        raise RowError("released_time", "before arrival_time")
    for name in TEXT_FIELDS:
        text = _text(values, name)
        if text is not None:
            fields[name] = text
    fields["date_of_birth"] = _date_of_birth(values, arrival, local_zone)
    fields["legal_basis"] = _choice(values, "legal_basis", LegalBasis) or LegalBasis.PACE_ARREST
    fields["prior_detention_minutes"] = _minutes(values, "prior_detention_minutes")
    fields["reviews"] = _reviews(values, naive_zone)
    fields["s38_certificate_ground"] = _choice(values, "s38_certificate_ground", CertificateGround)
    fields["release_reason"] = _choice(values, "release_reason", ReleaseReason)
    return fields


def _text(values: Mapping[str, object], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if type(value) is str:  # the common case, kept fast: 100,000 rows x 30 fields
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(name, f"expected text, got {_json_kind(value)}")
    text = str(value).strip()
    return text or None


def _date_of_birth(values: Mapping[str, object], arrival: datetime, zone: tzinfo) -> date | None:
    text = _text(values, "date_of_birth")
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        born = date.fromisoformat(text)
    except ValueError:
        raise RowError("date_of_birth", f"not a date in the form YYYY-MM-DD: {text!r}") from None
    arrival_day = arrival.astimezone(zone).date()
    if born > arrival_day:
        raise RowError("date_of_birth", f"{text} is after the date of arrival ({arrival_day})")
    return born


def _choice(values: Mapping[str, object], name: str, kind: type[E]) -> E | None:
    text = _text(values, name)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise RowError(name, f"unknown value {text!r} (expected one of: {allowed})") from None


def _minutes(values: Mapping[str, object], name: str) -> int:
    value = values.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise RowError(name, f"not a whole number of minutes: {value!r}")
        minutes = int(value)
    else:
        text = _text(values, name)
        if text is None:
            return 0
        if not _WHOLE.fullmatch(text):
            raise RowError(name, f"not a whole number of minutes: {text!r}")
        minutes = int(text.split(".", 1)[0])
    if minutes < 0:
        raise RowError(name, f"negative: {minutes}")
    return minutes


def _reviews(values: Mapping[str, object], naive_zone: tzinfo | None) -> tuple[datetime, ...]:
    value = values.get("reviews")
    if value is None:
        return ()
    if isinstance(value, str):
        parts: list[object] = list(value.split(";"))
    elif isinstance(value, list):
        parts = value
    else:
        raise RowError("reviews", f"expected a list of times, got {_json_kind(value)}")
    reviews = []
    for part in parts:
        if part is None:
            continue
        if not isinstance(part, str):
            raise RowError("reviews", f"expected a time, got {_json_kind(part)}")
        if not part.strip():
            continue
        try:
            reviews.append(parse_instant(part, naive_zone))
        except TimeValueError as exc:
            raise RowError("reviews", str(exc)) from None
    return tuple(sorted(reviews))


def _json_kind(value: object) -> str:
    names = {bool: "true/false", list: "a list", dict: "an object", int: "a number"}
    return names.get(type(value), type(value).__name__)
