"""Rejected rows, kept with their source, row, reason and raw text, never dropped.

What a rejected row keeps is cut down by the reader (contract fields only, each at most a
field's length, a bad value quoted to 40 characters), and enforced here again whoever built
the rejection, since a feed's unknown columns may hold anything (a name, an address):

- ``raw`` keeps only the fields of the custody-record contract (``ingest.parse.FIELDS``);
  text that is not a JSON object of fields (an unparseable line) is not kept at all: the
  file, the row number and the error say which line it was;
- an error about a personal field (``date_of_birth``, ``person_ref``) keeps the reason but
  not the value it quoted.

Every text is made storable here once more, because a quarantine row must never be the
thing that fails: PostgreSQL refuses a NUL in text, and no database takes a lone surrogate
(a file name that is not UTF-8 decodes to those), so both are written as escapes; and each
column is cut to its size."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custody_watch.ingest import Rejection
from custody_watch.ingest.parse import kept_fields
from custody_watch.store.schema import QuarantineRow

FILE_LENGTH = 512  # the columns' sizes (store.schema)
REF_LENGTH = 128
ERROR_LENGTH = 1000  # a reason with its 40-character quote is far shorter
RAW_LENGTH = 20_000  # thirty fields of at most 200 characters, escaped


def storable(text: str, limit: int) -> str:
    """``text`` as every database stores it: NULs and lone surrogates written as escapes
    (``\\x00``, ``\\ud800``), cut to ``limit`` characters. Clean text, nearly all of it,
    comes back unchanged."""
    if "\x00" in text or not _encodes(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Fields whose value is about the person: a rejection names the field and the reason, never
# the value (a date of birth; a person reference that a feed may have filled with a name).
PERSONAL_FIELDS = frozenset({"date_of_birth", "person_ref"})
NOT_KEPT = "(value not kept)"
# A value as ``ingest.quote`` writes it: a Python literal, perhaps cut ("... (N characters)").
_QUOTED = re.compile(r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")(?:\.\.\. \(\d+ characters\))?""")
# "date_of_birth: 2011-02-30 is after the date of arrival (...)": the value comes first.
_LEADING_VALUE = re.compile(r"^(\s*)\S+(?= is after )")


def kept_raw(raw: str) -> str:
    """What quarantine keeps of a rejected row's text: its contract fields, or nothing."""
    if not raw.strip():
        return ""
    try:
        values = json.loads(raw)
    except ValueError:
        return ""
    return kept_fields(values) if isinstance(values, dict) else ""


def kept_error(error: str) -> str:
    """``error`` without the value it quotes when it is about a personal field."""
    field, colon, reason = error.partition(":")
    if not colon or field.strip() not in PERSONAL_FIELDS:
        return error
    reason = _LEADING_VALUE.sub(lambda m: f"{m[1]}the value", reason, count=1)
    return f"{field}:{_QUOTED.sub(NOT_KEPT, reason)}"


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def add(
    session: Session, source: str, file: str, rejections: Iterable[Rejection], now: datetime
) -> int:
    name = storable(file, FILE_LENGTH)
    rows = [
        QuarantineRow(
            source=source,
            file=name,
            row=r.row,
            custody_ref=None if r.custody_ref is None else storable(r.custody_ref, REF_LENGTH),
            error=storable(kept_error(r.error), ERROR_LENGTH),
            raw=storable(kept_raw(r.raw), RAW_LENGTH),
            received_at=now,
        )
        for r in rejections
    ]
    session.add_all(rows)
    return len(rows)


def add_problem(session: Session, source: str, file: str, error: str, now: datetime) -> None:
    """A whole file that could not be read (not UTF-8, unreadable) is quarantined as row 0."""
    session.add(
        QuarantineRow(
            source=source,
            file=storable(file, FILE_LENGTH),
            row=0,
            custody_ref=None,
            error=storable(error, ERROR_LENGTH),
            raw="",
            received_at=now,
        )
    )


def listing(session: Session, limit: int | None = None) -> Sequence[QuarantineRow]:
    query = select(QuarantineRow).order_by(QuarantineRow.received_at, QuarantineRow.id)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def count_between(session: Session, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(QuarantineRow)
            .where(QuarantineRow.received_at >= start, QuarantineRow.received_at < end)
        )
        or 0
    )
