"""A table or view in any database SQLAlchemy can reach, read incrementally.

Every identifier (schema, table, columns) is checked against a plain-identifier pattern when
the source is built and then quoted by SQLAlchemy; every value is a bound parameter. No SQL
text is ever assembled from settings or data.

Incremental reading: ``WHERE <updated_at column> > :watermark ORDER BY <it>``, at most
``page_size`` rows a poll (``PollResult.more`` says there are more). Rows whose updated_at is
NULL cannot be ordered against a watermark: they are read once, on the first poll (no
watermark), and never again. A source whose custody system leaves updated_at empty should
fill it (a trigger, or a view with ``COALESCE``) or use a file export instead.

The watermark is the largest updated_at read, as ISO text of the value the database gave
(with its offset for ``timestamptz``, without one for naive timestamps, or the text itself
for a text column, which must then sort in time order)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Row,
    Select,
    Table,
    create_engine,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from custody_watch.config.model import SqlSource
from custody_watch.errors import ConfigError
from custody_watch.ingest.parse import FIELDS
from custody_watch.sources.base import Batch, PollResult, SeenKeys, Sleep, SourceError, SourceRow

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The interchange format's field names, as the reader knows them (a Detention also holds
# what is not a field of the format, such as which fields a feed carries).
SPEC_FIELDS = FIELDS
REQUIRED_FIELDS = ("custody_ref", "suite", "arrival_time")
# The watermark after a first poll that found no row with an updated_at: NULL rows have been
# read, and from now on only rows with an updated_at are.
NOTHING_DATED_YET = "(no dated rows yet)"
DEFAULT_PAGE_SIZE = 5000
_MARK = "_cw_watermark"  # result label of the incremental column; not a spec field name
_CONNECT_TIMEOUT_S = 10


class SqlTable:
    """Reads new and changed rows of one table or view and renames columns to spec fields."""

    def __init__(
        self,
        name: str,
        url: str,
        table: str,
        *,
        schema: str | None = None,
        columns: Mapping[str, str] | None = None,
        updated_at_column: str = "updated_at",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.name = name
        self._table_name = _identifier(name, "table", table)
        self._schema = _identifier(name, "schema", schema) if schema is not None else None
        self._columns = _column_map(name, columns or {})
        self._updated_at = _identifier(name, "updated_at_column", updated_at_column)
        if page_size < 1:
            raise ConfigError(f"source {name!r}: page_size must be at least 1")
        self._page_size = page_size
        self._engine = _engine(name, url)
        self._plan: _Plan | None = None  # built from the reflected table on the first poll

    @classmethod
    def from_settings(
        cls, settings: SqlSource, *, env: Mapping[str, str], sleep: Sleep
    ) -> SqlTable:
        # The incremental column defaults to the one mapped onto the updated_at field, unless
        # updated_at_column was set explicitly.
        updated_at = settings.updated_at_column
        if "updated_at_column" not in settings.model_fields_set:
            updated_at = settings.columns.get("updated_at", updated_at)
        return cls(
            settings.name,
            settings.url,
            settings.table,
            schema=settings.schema_name,
            columns=settings.columns,
            updated_at_column=updated_at,
            page_size=settings.page_size,
        )

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        try:
            with self._engine.connect() as conn:
                plan = self._plan or self._reflect(conn)
                rows, mark, more = self._read(conn, plan, watermark)
        except SourceError:
            raise
        except SQLAlchemyError as exc:
            # Reflect again next time: the error may be a column dropped or renamed.
            self._plan = None
            raise SourceError(f"{self.name}: database error: {_first_line(exc)}") from None
        if not rows:
            return PollResult(watermark=mark)
        label = f"{self._qualified()} after {watermark or 'the start'}"
        batch = Batch(label=label, rows=[_source_row(i, row) for i, row in enumerate(rows, 1)])
        return PollResult(batches=[batch], watermark=mark, more=more)

    def close(self) -> None:
        self._engine.dispose()

    # Private API

    def _qualified(self) -> str:
        return f"{self._schema}.{self._table_name}" if self._schema else self._table_name

    def _reflect(self, conn: Connection) -> _Plan:
        try:
            table = Table(self._table_name, MetaData(), schema=self._schema, autoload_with=conn)
        except NoSuchTableError:
            raise SourceError(
                f"{self.name}: no table or view {self._qualified()!r} in the database",
                transient=False,
            ) from None
        self._plan = _Plan.of(self.name, table, self._columns, self._updated_at)
        return self._plan

    def _read(
        self, conn: Connection, plan: _Plan, watermark: str | None
    ) -> tuple[list[Row[Any]], str | None, bool]:
        """One page of rows after ``watermark``, the new watermark, and whether more wait."""
        u = plan.updated_at
        rows: list[Row[Any]] = []
        if watermark is None:
            rows += conn.execute(plan.select.where(u.is_(None))).all()
            dated = plan.select.where(u.is_not(None))
        elif watermark == NOTHING_DATED_YET:
            dated = plan.select.where(u.is_not(None))
        else:
            dated = plan.select.where(u > self._bound(u, watermark))
        page = conn.execute(dated.order_by(u).limit(self._page_size)).all()
        more = len(page) == self._page_size
        if more:
            # Rows sharing the last updated_at may run past the page; a later poll asks for
            # "> watermark" and would skip them, so read every one of them now.
            last = getattr(page[-1], _MARK)
            page = [r for r in page if getattr(r, _MARK) != last]
            page += conn.execute(plan.select.where(u == last)).all()
        rows += page
        if page:
            return rows, _mark_text(getattr(page[-1], _MARK)), more
        if watermark is None and rows:
            # Only NULL rows so far: they are read now, and must not be read again.
            return rows, NOTHING_DATED_YET, False
        return rows, watermark, False

    def _bound(self, column: Column[Any], watermark: str) -> object:
        """The stored watermark as a value of the column's type, to bind."""
        kind = column.type
        try:
            if isinstance(kind, DateTime):
                return datetime.fromisoformat(watermark)
            if isinstance(kind, Date):
                return date.fromisoformat(watermark)
            if isinstance(kind, Integer):
                return int(watermark)
        except ValueError:
            raise SourceError(
                f"{self.name}: stored watermark {watermark!r} does not fit column "
                f"{column.name!r} ({column.type}); clear the source's watermark to re-read",
                transient=False,
            ) from None
        return watermark


class _Plan:
    """The reflected table, the query selecting spec fields, and the incremental column."""

    def __init__(self, select_: Select[Any], updated_at: Column[Any]) -> None:
        self.select = select_
        self.updated_at = updated_at

    @classmethod
    def of(cls, source: str, table: Table, columns: Mapping[str, str], updated_at: str) -> _Plan:
        def column(name: str, why: str) -> Column[Any]:
            if name not in table.c:
                raise SourceError(
                    f"{source}: table {table.fullname!r} has no column {name!r} ({why})",
                    transient=False,
                )
            return table.c[name]

        chosen: dict[str, Column[Any]] = {}
        for spec in SPEC_FIELDS:
            if spec in columns:
                chosen[spec] = column(columns[spec], f"mapped onto field {spec!r}")
            elif spec in table.c:
                chosen[spec] = table.c[spec]
        incremental = column(updated_at, "the updated_at column")
        chosen.setdefault("updated_at", incremental)
        missing = [spec for spec in REQUIRED_FIELDS if spec not in chosen]
        if missing:
            raise SourceError(
                f"{source}: no column for required field(s) {', '.join(missing)} in "
                f"{table.fullname!r}; map them under 'columns'",
                transient=False,
            )
        labelled = [col.label(spec) for spec, col in chosen.items()]
        return cls(select(*labelled, incremental.label(_MARK)), incremental)


def _identifier(source: str, key: str, value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise ConfigError(
            f"source {source!r}: {key} {value!r} is not a plain SQL identifier (letters, digits "
            "and '_', not starting with a digit); use a view to reach anything else"
        )
    return value


def _column_map(source: str, columns: Mapping[str, str]) -> dict[str, str]:
    for spec, name in columns.items():
        if spec not in SPEC_FIELDS:
            raise ConfigError(
                f"source {source!r}: columns.{spec}: not a field of the custody record format"
            )
        _identifier(source, f"columns.{spec}", name)
    return dict(columns)


def _engine(source: str, url: str) -> Any:
    """One engine (and pool) per source, built once. ``pool_pre_ping`` replaces connections
    the server dropped (restarts, idle timeouts) instead of failing a poll on them."""
    try:
        parsed = make_url(url)
        connect_args: dict[str, object] = {}
        if parsed.get_backend_name() == "postgresql":
            # Without it an unreachable server holds a poll for the OS TCP timeout (minutes).
            connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise ConfigError(f"source {source!r}: url cannot be used: {_first_line(exc)}") from None


def _source_row(number: int, row: Row[Any]) -> SourceRow:
    values = {spec: _plain(value) for spec, value in row._mapping.items() if spec != _MARK}
    return SourceRow(number, values, json.dumps(values, default=str, ensure_ascii=False))


def _plain(value: object) -> object:
    """Database values as the text ingest reads. A naive datetime stays without an offset,
    so ingest applies the source's naive_timezone or rejects it, as for files."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value


def _mark_text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
