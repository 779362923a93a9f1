"""Bulk writes through the driver's own executemany, for the ingest path on SQLite.

SQLAlchemy's executemany builds a parameter dictionary per row and runs every value through
its column type's processor; for a backfill of tens of thousands of rows that costs more
than SQLite's own work. Here SQLAlchemy still builds and compiles each statement (there is
no SQL text in this module); only the values arrive ready, as tuples in the driver's form
(instants as ``times.utc_text``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement compiled once for a dialect with positional parameters in ``keys`` order."""

    sql: str
    keys: tuple[str, ...]

    @classmethod
    def compile(
        cls, statement: ClauseElement, dialect: Dialect, keys: Sequence[str]
    ) -> DriverStatement:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)  # a DML statement compiles to SQL
        order = tuple(compiled.positiontup or ())
        if not compiled.positional or order != tuple(keys):
            # The tuples are built in ``keys`` order; any other binding order would put
            # values in the wrong columns, so refuse rather than guess.
            raise ValueError(f"{dialect.name}: parameters bind as {order}, not {tuple(keys)}")
        return cls(compiled.string, tuple(keys))

    def run(self, session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            session.connection().exec_driver_sql(self.sql, list(rows))

    def rows(self, session: Session, values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """A query's rows as the driver gives them (plain tuples, no result processing):
        only for columns whose driver values are what the caller wants (text, integers)."""
        cursor = session.connection().exec_driver_sql(self.sql, values).cursor
        assert cursor is not None  # a query has rows to read
        return list(cursor.fetchall())
