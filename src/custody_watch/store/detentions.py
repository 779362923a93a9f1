"""Detentions and their versions."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Select, String, Table, any_, bindparam, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from custody_watch.domain import Detention
from custody_watch.ingest import jsontext
from custody_watch.ingest.prepare import PreparedRow, prepared_row
from custody_watch.ingest.record import from_record, to_record
from custody_watch.store.bulk import DriverStatement
from custody_watch.store.schema import DetentionRow, DetentionVersionRow
from custody_watch.times import LONDON, format_local, from_utc_text, utc_text

events_log = logging.getLogger("custody_watch.events")


def record_versions(
    session: Session, *, source: str, batch: str, items: Sequence[PreparedRow], now: datetime
) -> int:
    """Store one batch of versions with a handful of statements; returns how many current
    records changed (each is due for the rules now).

    1. Read the stored current record of every custody ref in the batch (one query a chunk).
    2. Per ref, the batch's own winner (the feed's version rule) replaces the stored record
       when it is newer: a later ``updated_at`` wins, a version without one is older than
       any with one, and between equals the one received later wins.
    3. Insert new detentions, update changed ones, and keep every version that says
       something new, for audit: bulk statements, not a round trip per row."""
    stored = _stored(session, list(dict.fromkeys(item.custody_ref for item in items)))
    resent = {  # the stored record again, word for word: nothing to keep
        index
        for index, item in enumerate(items)
        if (current := stored.get(item.custody_ref)) is not None and current.record_is(item)
    }
    winner: dict[str, int] = {}
    for index, item in enumerate(items):
        best = winner.get(item.custody_ref)
        if best is None or _not_older(item.updated_at, items[best].updated_at):
            winner[item.custody_ref] = index
    plan = _Plan()
    became: set[int] = set()
    for ref, index in winner.items():
        item, current = items[index], stored.get(ref)
        if current is None:
            plan.inserts.append(item)
        elif index not in resent and _not_older(item.updated_at, current.record_updated_at):
            plan.updates.append((current.id, item))
        else:
            continue
        became.add(index)
    plan.versions = [
        (item, index in became) for index, item in enumerate(items) if index not in resent
    ]
    writer = _WRITERS.get(session.get_bind().dialect.name, _CoreWriter)(session)
    ids = {ref: current.id for ref, current in stored.items()}
    writer.write(plan, ids, source=source, batch=batch, now=now)
    for item in plan.inserts:
        if item.is_child and not item.released_time:
            # The newcomer's view of a child arriving (``run`` shows INFO from these).
            events_log.info(
                "child in custody %s at %s, arrived %s",
                item.custody_ref,
                item.suite,
                format_local(from_utc_text(item.arrival_time)),
            )
    return len(plan.inserts) + len(plan.updates)


def record_version(
    session: Session,
    *,
    source: str,
    batch: str,
    row: int,
    detention: Detention,
    is_child: bool,
    now: datetime,
) -> bool:
    """Store one version (see ``record_versions``); True when the current record changed."""
    item = prepared_row(row, detention, to_record(detention), LONDON)._replace(is_child=is_child)
    return record_versions(session, source=source, batch=batch, items=[item], now=now) == 1


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    record_updated_at: str | None  # as utc_text, to compare with a prepared row's
    record: dict[str, Any]

    def record_is(self, item: PreparedRow) -> bool:
        return bool(self.record == jsontext.loads(item.record_json))


@dataclass(slots=True)
class _Plan:
    inserts: list[PreparedRow] = field(default_factory=list)
    updates: list[tuple[int, PreparedRow]] = field(default_factory=list)  # (detention id, row)
    versions: list[tuple[PreparedRow, bool]] = field(default_factory=list)  # (row, current)


def _stored(session: Session, refs: Sequence[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    for ref, row_id, updated_at, record in _by_refs(session, _STORED, refs):
        found[ref] = _Stored(row_id, None if updated_at is None else utc_text(updated_at), record)
    return found


REFS_A_QUERY = 500
_REF_KEYS = tuple(f"ref{i}" for i in range(REFS_A_QUERY))


def _by_refs(session: Session, queries: _ByRefs, refs: Sequence[str]) -> Iterator[Any]:
    """The rows of ``queries`` (``_STORED``, ``_IDS``) for ``refs``: Core, not ORM, selects
    (no per-row entity bookkeeping).

    - PostgreSQL: the refs as one array parameter (``= ANY``), in one query. A query with
      500 parameters is longer than psycopg caches, so psycopg parsed its text again at
      every execution, and the server planned a 500-element list each time.
    - SQLite (no arrays): 500 refs a query. The query has 500 plain parameters and a
      shorter list repeats its last ref to fill them, so it is compiled once: an expanding
      parameter was rendered again at every execution, which cost more than SQLite's own
      look-ups."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if refs:
            yield from connection.execute(queries.by_array, {"refs": list(refs)})
        return
    query = queries.by_list
    for start in range(0, len(refs), REFS_A_QUERY):
        part = list(refs[start : start + REFS_A_QUERY])
        part.extend(part[-1:] * (REFS_A_QUERY - len(part)))
        yield from connection.execute(query, dict(zip(_REF_KEYS, part, strict=True)))


def _not_older(incoming: str | None, than: str | None) -> bool:
    """The feed's version rule, for a version received after ``than``'s: a later updated_at
    wins, an undated version is older than any dated one, and a tie goes to the later."""
    if incoming is None:
        return than is None
    return than is None or incoming >= than


DETENTIONS: Table = DetentionRow.__table__  # type: ignore[assignment]
VERSIONS: Table = DetentionVersionRow.__table__  # type: ignore[assignment]
_D = DETENTIONS.c


@dataclass(frozen=True, slots=True)
class _ByRefs:
    """One look-up by custody ref, in the two forms ``_by_refs`` runs."""

    by_list: Select[Any]  # ref IN (:ref0, ... :ref499)
    by_array: Select[Any]  # ref = ANY(:refs), PostgreSQL only

    @classmethod
    def of(cls, *columns: Any) -> _ByRefs:
        in_list = _D.custody_ref.in_([bindparam(name) for name in _REF_KEYS])
        in_array = _D.custody_ref == any_(bindparam("refs", type_=ARRAY(String)))
        return cls(select(*columns).where(in_list), select(*columns).where(in_array))


_STORED = _ByRefs.of(_D.custody_ref, _D.id, _D.record_updated_at, _D.record)
_IDS = _ByRefs.of(_D.custody_ref, _D.id)

# The columns a version sets on its detention row, in table order (which is the order
# SQLAlchemy binds them in; ``DriverStatement`` checks).
_FROM_RECORD = (
    "suite",
    "force",
    "arrival_time",
    "released_time",
    "is_child",
    "record",
    "record_updated_at",
)
# person_ref is the table's last column (added in 0007), so it binds last.
_CURRENT = (*_FROM_RECORD, "last_changed_at", "next_check_at", "person_ref")
_NEW = (
    "custody_ref",
    "source",
    *_FROM_RECORD,
    "first_seen_at",
    "last_changed_at",
    "next_check_at",
    "person_ref",
)
_VERSION = (
    "detention_id",
    "source",
    "batch",
    "row",
    "received_at",
    "record_updated_at",
    "record",
    "became_current",
)


class _CoreWriter:
    """Any database: Core statements, values in their Python types."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write(
        self, plan: _Plan, ids: dict[str, int], *, source: str, batch: str, now: datetime
    ) -> None:
        if plan.inserts:
            rows = [
                {"custody_ref": item.custody_ref, "source": source, "first_seen_at": now}
                | self._current(item, now)
                for item in plan.inserts
            ]
            created = self.session.execute(
                insert(DETENTIONS).returning(DETENTIONS.c.id, DETENTIONS.c.custody_ref), rows
            )
            ids.update({ref: row_id for row_id, ref in created})
        if plan.updates:
            self.session.execute(
                update(DetentionRow),
                [{"id": row_id} | self._current(item, now) for row_id, item in plan.updates],
            )
        if plan.versions:
            versions = [
                {
                    "detention_id": ids[item.custody_ref],
                    "source": source,
                    "batch": batch,
                    "row": item.row,
                    "received_at": now,
                    "record_updated_at": _instant(item.updated_at),
                    "record": jsontext.loads(item.record_json),
                    "became_current": became,
                }
                for item, became in plan.versions
            ]
            self.session.execute(insert(VERSIONS), versions)

    @staticmethod
    def _current(item: PreparedRow, now: datetime) -> dict[str, Any]:
        values = (
            item.suite,
            item.force,
            from_utc_text(item.arrival_time),
            _instant(item.released_time),
            item.is_child,
            jsontext.loads(item.record_json),
            _instant(item.updated_at),
            now,
            now,  # next_check_at: due now, the rules must see the change
            item.person_ref,
        )
        return dict(zip(_CURRENT, values, strict=True))


class _SqliteWriter:
    """SQLite: the same rows through the driver's executemany (see ``store.bulk``), with the
    record's JSON text written as read and each instant formatted once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.statements = _sqlite_statements(session.get_bind().dialect)

    def write(
        self, plan: _Plan, ids: dict[str, int], *, source: str, batch: str, now: datetime
    ) -> None:
        at = utc_text(now)
        new, current, version = self.statements
        last_id = _last_id(self.session) if plan.inserts else 0
        # A changed detention is due now (next_check_at): the rules must see the change.
        new.run(
            self.session,
            [
                (item.custody_ref, source, *self._from_record(item), at, at, at, item.person_ref)
                for item in plan.inserts
            ],
        )
        current.run(
            self.session,
            [
                (*self._from_record(item), at, at, item.person_ref, row_id)
                for row_id, item in plan.updates
            ],
        )
        if plan.inserts:
            ids.update(_new_ids(self.session, last_id, [item.custody_ref for item in plan.inserts]))
        version.run(
            self.session,
            [
                (
                    ids[item.custody_ref],
                    source,
                    batch,
                    item.row,
                    at,
                    item.updated_at,
                    item.record_json,
                    became,
                )
                for item, became in plan.versions
            ],
        )

    @staticmethod
    def _from_record(item: PreparedRow) -> tuple[Any, ...]:
        # Instants are already in SQLite's text form (times.utc_text).
        return (
            item.suite,
            item.force,
            item.arrival_time,
            item.released_time,
            item.is_child,
            item.record_json,
            item.updated_at,
        )


class _PostgresWriter:
    """PostgreSQL: new detentions and every version by ``COPY`` (ids for the new ones taken
    from the table's sequence first), the record's JSON text and the instants sent as the
    text they already are. The Core statements spent most of their time in psycopg parsing
    the many-row INSERT text SQLAlchemy built for each batch, and in writing each record's
    JSON again. Updates of stored detentions stay Core statements (a tenth of a feed)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write(
        self, plan: _Plan, ids: dict[str, int], *, source: str, batch: str, now: datetime
    ) -> None:
        at = _pg_instant(utc_text(now))
        if plan.inserts:
            new_ids = self._take_ids(len(plan.inserts))
            ids.update(zip((item.custody_ref for item in plan.inserts), new_ids, strict=True))
            self._copy(
                "detentions",
                ("id", *_NEW),
                [
                    (
                        row_id,
                        item.custody_ref,
                        source,
                        *_pg_from_record(item),
                        at,
                        at,
                        at,
                        item.person_ref,
                    )
                    for row_id, item in zip(new_ids, plan.inserts, strict=True)
                ],
            )
        if plan.updates:
            _CoreWriter(self.session).write(
                _Plan(updates=plan.updates), ids, source=source, batch=batch, now=now
            )
        self._copy(
            "detention_versions",
            _VERSION,
            [
                (
                    ids[item.custody_ref],
                    source,
                    batch,
                    item.row,
                    at,
                    _pg_instant(item.updated_at),
                    item.record_json,
                    became,
                )
                for item, became in plan.versions
            ],
        )

    def _take_ids(self, count: int) -> list[int]:
        # The driver's own fetch: SQLAlchemy's rows cost three times the query itself.
        with self._driver(_TAKE_IDS) as cursor:
            cursor.execute(_TAKE_IDS, (count,))
            return [row_id for (row_id,) in cursor.fetchall()]

    def _copy(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """``rows`` by COPY in this session's transaction."""
        if not rows:
            return
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._driver(sql) as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    @contextlib.contextmanager
    def _driver(self, sql: str) -> Iterator[Any]:
        """A psycopg cursor in this session's transaction. The driver's errors come back as
        SQLAlchemy's (as a Core statement's would), so that a refused row is told apart
        from a database that is down (``daemon.poll.DATABASE_TROUBLE``)."""
        connection = self.session.connection()
        raw = connection.connection.driver_connection
        assert raw is not None
        dbapi = connection.dialect.loaded_dbapi
        try:
            with raw.cursor() as cursor:
                yield cursor
        except dbapi.Error as error:
            raise sa_exc.DBAPIError.instance(
                sql, None, error, dbapi.Error, hide_parameters=True, dialect=connection.dialect
            ) from error


_TAKE_IDS = "SELECT nextval(pg_get_serial_sequence('detentions', 'id')) FROM generate_series(1, %s)"


def _pg_instant(text: str | None) -> str | None:
    """``times.utc_text`` as PostgreSQL reads a ``timestamptz`` whatever the session's zone."""
    return None if text is None else text + "+00"


def _pg_from_record(item: PreparedRow) -> tuple[Any, ...]:
    return (
        item.suite,
        item.force,
        _pg_instant(item.arrival_time),
        _pg_instant(item.released_time),
        item.is_child,
        item.record_json,
        _pg_instant(item.updated_at),
    )


_WRITERS: dict[str, Any] = {"sqlite": _SqliteWriter, "postgresql": _PostgresWriter}


@functools.lru_cache(maxsize=4)  # one entry per dialect object: compiled once, not per batch
def _sqlite_statements(
    dialect: Dialect,
) -> tuple[DriverStatement, DriverStatement, DriverStatement]:
    by_id = update(DETENTIONS).where(DETENTIONS.c.id == bindparam("b_id"))
    return (
        DriverStatement.compile(insert(DETENTIONS), dialect, _NEW),
        DriverStatement.compile(
            by_id.values({name: bindparam(name) for name in _CURRENT}), dialect, (*_CURRENT, "b_id")
        ),
        DriverStatement.compile(insert(VERSIONS), dialect, _VERSION),
    )


def _instant(text: str | None) -> datetime | None:
    return None if text is None else from_utc_text(text)


def _last_id(session: Session) -> int:
    return session.connection().execute(_LAST_ID).scalar_one() or 0


def _new_ids(session: Session, last_id: int, refs: Sequence[str]) -> dict[str, int]:
    """The ids SQLite gave the detentions just inserted: each new row's id is one more than
    the largest before it, so they are the rows after ``last_id`` (read before inserting),
    found in one range scan rather than by ref through the unique index. A row another
    writer added meanwhile is read too and ignored; if any of ``refs`` is missing (ids
    reused at the very top of the range), they are looked up by ref."""
    after = dict(_sqlite_ids_after(session.get_bind().dialect).rows(session, (last_id,)))
    try:
        return {ref: after[ref] for ref in refs}
    except KeyError:
        return _ids(session, refs)


_LAST_ID = select(func.max(_D.id))


@functools.lru_cache(maxsize=4)
def _sqlite_ids_after(dialect: Dialect) -> DriverStatement:
    query = select(_D.custody_ref, _D.id).where(_D.id > bindparam("after"))
    return DriverStatement.compile(query, dialect, ("after",))


def _ids(session: Session, refs: Sequence[str]) -> dict[str, int]:
    return {ref: row_id for ref, row_id in _by_refs(session, _IDS, refs)}


@dataclass(frozen=True, slots=True)
class DueRecord:
    """What evaluation needs of a detention row, read without the ORM's identity map."""

    id: int
    custody_ref: str
    suite: str
    force: str | None
    released_time: datetime | None
    record: dict[str, Any]
    # When the version read was stored: the next check is written only if it still is.
    changed_at: datetime


_DUE_COLUMNS = (
    DetentionRow.id,
    DetentionRow.custody_ref,
    DetentionRow.suite,
    DetentionRow.force,
    DetentionRow.released_time,
    DetentionRow.record,
    DetentionRow.last_changed_at,
)


def due_records(session: Session, now: datetime, limit: int = 5000) -> list[DueRecord]:
    """Detentions whose rules must run: changed, or a threshold or event time reached.

    Claimed for the caller's transaction: on PostgreSQL the rows are locked and rows another
    daemon is evaluating are skipped. Without the lock, daemons evaluated the same chunk side
    by side (three times the work, and the losers' findings broke unique keys). A poll that
    stores a new version meanwhile waits for the lock; on SQLite, where the driver reads
    outside the transaction and nothing is locked, ``set_next_checks`` sees the new version
    instead."""
    query = (
        select(*_DUE_COLUMNS)
        .where(DetentionRow.next_check_at <= now)
        .order_by(DetentionRow.next_check_at, DetentionRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [DueRecord(*row) for row in session.execute(query)]


def due_records_by_id(session: Session, ids: Sequence[int]) -> list[DueRecord]:
    """These detentions, claimed as ``due_records`` claims them (one locked by another
    daemon is left to it)."""
    query = select(*_DUE_COLUMNS).where(DetentionRow.id.in_(ids)).with_for_update(skip_locked=True)
    return [DueRecord(*row) for row in session.execute(query)]


_SET_NEXT_CHECK = (
    update(DETENTIONS)
    .where(_D.id == bindparam("b_id"), _D.last_changed_at == bindparam("b_changed_at"))
    .values(next_check_at=bindparam("b_next_check_at"))
)


def set_next_checks(session: Session, checked: Sequence[tuple[DueRecord, datetime | None]]) -> None:
    """Each evaluated detention's next check, in one executemany, written only where the
    version evaluated is still the stored one. A poll that stored a newer version while the
    rules ran over the old one has marked it due now, and that must stand: the old
    version's next check could be hours away, or none at all."""
    rows = [
        {"b_id": due.id, "b_changed_at": due.changed_at, "b_next_check_at": at}
        for due, at in checked
    ]
    if rows:
        session.execute(_SET_NEXT_CHECK, rows)


def load_record(record: dict[str, Any]) -> Detention:
    return from_record(record)


def set_next_check(session: Session, detention_id: int, at: datetime | None) -> None:
    session.execute(
        update(DetentionRow).where(DetentionRow.id == detention_id).values(next_check_at=at)
    )


# More than any rule needs (repeat_detention: 2 by default), so the count in its words is
# exact for any sensible setting, and a person with thousands of records costs no more.
SAME_PERSON_LIMIT = 1000


def same_person_arrivals(
    session: Session, person_ref: str, custody_ref: str, start: datetime, end: datetime
) -> list[datetime]:
    """Arrival times in [start, end) of the other detentions of ``person_ref`` (RULES.md,
    Precise reading 11: whatever their state; one row per custody_ref, this one excluded).
    One range scan of ``ix_detentions_person_arrival``: its cost follows the person's records
    in the window, not the size of the store (about 1 ms on SQLite, 2 ms on PostgreSQL with a
    million stored)."""
    return list(session.scalars(same_person_query(person_ref, custody_ref, start, end)))


@dataclass(frozen=True, slots=True)
class SamePersonAsk:
    """The other arrivals of ``person_ref`` in [start, end), for ``custody_ref``."""

    custody_ref: str
    person_ref: str
    start: datetime
    end: datetime


def same_person_ask(
    detention: Detention, lookback: timedelta, now: datetime
) -> SamePersonAsk | None:
    """What repeat_detention needs from the store for one detention: only for a record with a
    person_ref that is in custody now (the rule needs both), so that a cycle's (or a board's)
    cost follows the detentions it looks at, not the size of the history."""
    arrival, released = detention.arrival_time, detention.released_time
    if detention.person_ref is None or arrival > now or (released is not None and released <= now):
        return None
    try:
        start = arrival - lookback
    except OverflowError:  # an arrival near year 1 and a huge lookback: from the beginning
        start = datetime.min.replace(tzinfo=UTC)
    return SamePersonAsk(detention.custody_ref, detention.person_ref, start, arrival)


def same_person_arrivals_of(
    session: Session, asks: Sequence[SamePersonAsk]
) -> dict[str, list[datetime]]:
    """``same_person_arrivals`` for a whole chunk in one query: custody_ref -> arrivals.

    One look-up per detention cost a round trip each (about 1 ms on SQLite and 2 ms on
    PostgreSQL with a million stored), a second a cycle of 1,000 changes. Here the persons'
    index ranges are read together, at most ``SAME_PERSON_LIMIT`` latest arrivals a person
    (row_number over the person), and each ask takes its own window from them."""
    if not asks:
        return {}
    query = same_person_batch_query(asks)
    found: dict[str, list[tuple[str, datetime]]] = {}
    for person, ref, arrival in session.execute(query):
        found.setdefault(str(person), []).append((str(ref), arrival))
    return {
        ask.custody_ref: [
            arrival
            for ref, arrival in found.get(ask.person_ref, ())
            if ref != ask.custody_ref and ask.start <= arrival < ask.end
        ][:SAME_PERSON_LIMIT]
        for ask in asks
    }


def same_person_batch_query(
    asks: Sequence[SamePersonAsk],
) -> Select[Any]:
    persons = sorted({ask.person_ref for ask in asks})
    ranked = (
        select(
            _D.person_ref,
            _D.custody_ref,
            _D.arrival_time,
            func.row_number()
            .over(partition_by=_D.person_ref, order_by=_D.arrival_time.desc())
            .label("n"),
        )
        .where(
            _D.person_ref.in_(persons),
            _D.arrival_time >= min(ask.start for ask in asks),
            _D.arrival_time < max(ask.end for ask in asks),
        )
        .subquery()
    )
    return select(ranked.c.person_ref, ranked.c.custody_ref, ranked.c.arrival_time).where(
        ranked.c.n <= SAME_PERSON_LIMIT + 1  # + 1: the asking record itself may be one
    )


def same_person_query(
    person_ref: str, custody_ref: str, start: datetime, end: datetime
) -> Select[tuple[datetime]]:
    return (
        select(_D.arrival_time)
        .where(
            _D.person_ref == person_ref,
            _D.arrival_time >= start,
            _D.arrival_time < end,
            _D.custody_ref != custody_ref,
        )
        .limit(SAME_PERSON_LIMIT)
    )


def load(row: DetentionRow) -> Detention:
    return from_record(row.record)


def by_ref(session: Session, custody_ref: str) -> DetentionRow | None:
    return session.scalar(select(DetentionRow).where(DetentionRow.custody_ref == custody_ref))
