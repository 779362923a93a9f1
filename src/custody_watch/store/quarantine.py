"""Rejected rows, kept with their source, row, reason and raw text, never dropped.

What a rejected row keeps is already cut down by the reader (contract fields only, each at
most a field's length, a bad value quoted to 40 characters). Every text is made storable
here once more, because a quarantine row must never be the thing that fails: PostgreSQL
refuses a NUL in text, and no database takes a lone surrogate (a file name that is not
UTF-8 decodes to those), so both are written as escapes; and each column is cut to its
size."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custody_watch.ingest import Rejection
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
            error=storable(r.error, ERROR_LENGTH),
            raw=storable(r.raw, RAW_LENGTH),
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
