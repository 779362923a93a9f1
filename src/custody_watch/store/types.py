"""Column types that keep the store's promise: instants go in and come out as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from custody_watch.times import from_utc_text, utc_text


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python; ``timestamptz`` on PostgreSQL, naive UTC text on SQLite (which
    has no time zones). A naive datetime is refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # On SQLite the text is written and read here, in SQLAlchemy's own DATETIME text
        # form ("2026-06-10 11:00:00.000000", which sorts as time does), rather than by its
        # per-value processors: a feed stores tens of thousands of instants a minute.
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        if dialect.name == "sqlite":
            return utc_text(value)  # SQLAlchemy's own DATETIME text form
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return from_utc_text(value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def state_type(states: type[StrEnum], length: int = 16) -> Enum:
    """A column of one of ``states``: stored as its string (``VARCHAR(length)``), read back
    as the ``StrEnum`` member. A member or its string may be written, anything else is
    refused before it reaches the database (``validate_strings``).

    No native enum type and no CHECK constraint: the tables stay exactly what the migrations
    made. A CHECK would mean rebuilding ``alerts`` on SQLite, which findings, pages and notes
    refer to, inside the migration's transaction, where ``PRAGMA foreign_keys`` cannot be
    turned off; the program is the only writer, and it cannot write another state."""
    return Enum(
        states,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
