"""Polling one source into the store: rows -> detentions (versions) or quarantine.

Each batch (a file, a page) is stored in one transaction together with the file's "read"
mark, and the watermark moves only after all batches are stored: a crash re-reads, never
loses.

A bad row costs only itself. When a batch's transaction fails, its rows are stored again in
halves, down to single rows (each in its own transaction), so the rows the database takes
are kept and each row it refuses is quarantined with a reason naming its field; the file is
then marked read. Only a failure that is not about any row (the database is down, locked or
gone) fails the source: it is recorded (``sources`` shows the count and the last error) and
the batch is read again on the next poll. Either way the cycle goes on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.ingest.prepare import Prepared, PreparedRow, Zones, prepare_rows
from custody_watch.ingest.result import Rejection
from custody_watch.redact import redact_urls
from custody_watch.rules.policy import Policy
from custody_watch.sources.base import PollResult, Source, SourceError, SourceRow
from custody_watch.store import audit, detentions, quarantine, sources
from custody_watch.store.schema import DetentionRow
from custody_watch.times import parse_zone

log = logging.getLogger(__name__)
T = TypeVar("T")


MAX_PAGES_PER_POLL = 200
# How much of a refused value a reason or a quarantined row may quote (the record contract's
# limit for quarantine): enough to find it in the file, never a whole field of personal data.
QUOTE = 40
ERROR_TEXT = 300  # a source's last error, as `sources` shows it

# Errors about the database rather than any row: splitting the batch cannot help, and
# quarantining good rows because the server blinked would lose them. The source fails and
# the batch is read again on the next poll.
DATABASE_TROUBLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    sa_exc.ResourceClosedError,
)


class StoreError(Exception):
    """A batch could not be stored for a reason that is not about its rows."""


def poll_source(
    sessions: sessionmaker[Session],
    source: Source,
    kind: str,
    naive_timezone: str | None,
    policy: Policy,
    now: datetime,
) -> int:
    """Poll once (following ``more`` while a backlog streams in); returns how many detentions
    changed. Never raises: a failing poll or store is recorded against the source."""
    try:
        naive_zone = parse_zone(naive_timezone) if naive_timezone else None
    except Exception as exc:  # config is checked at start; this is belt and braces
        _record_failure_quietly(sessions, source.name, kind, _describe(exc), now)
        return 0
    changed = 0
    for _ in range(MAX_PAGES_PER_POLL):
        try:
            with sessions.begin() as session:
                state = sources.state(session, source.name, kind)
                state.last_poll_at = now
                state.first_poll_at = state.first_poll_at or now
                watermark = state.watermark
            with sessions.begin() as session:
                result = source.poll(watermark, sources.SeenFiles(session, source.name), now)
        except SourceError as exc:
            _record_failure_quietly(sessions, source.name, kind, str(exc), now)
            return changed
        except Exception as exc:  # a bug or library surprise must not stop the daemon
            log.exception("source %s failed", source.name)
            _record_failure_quietly(
                sessions, source.name, kind, f"unexpected error: {_describe(exc)}", now
            )
            return changed
        try:
            for batch in result.batches:
                changed += store_rows(
                    sessions,
                    source.name,
                    batch.label,
                    batch.rows,
                    naive_zone,
                    policy,
                    now,
                    batch.key,
                )[0]
            _record_success(sessions, source.name, kind, result, now)
        except Exception as exc:
            # Not about a row (those are quarantined inside store_rows): the database. The
            # watermark has not moved, so what was not stored is read again next time.
            log.exception("storing what source %s delivered failed", source.name)
            why = str(exc) if isinstance(exc, StoreError) else _describe(exc)
            _record_failure_quietly(sessions, source.name, kind, f"could not store: {why}", now)
            return changed
        if not result.more:
            break
    return changed


def _record_success(
    sessions: sessionmaker[Session], name: str, kind: str, result: PollResult, now: datetime
) -> None:
    problems = list(result.problems)
    try:
        _write_success(sessions, name, kind, result, problems, now)
    except DATABASE_TROUBLE:
        raise
    except Exception:
        # A problem's text (a file name from the feed) was refused: keep the success and
        # the fact of each problem in a form every database takes.
        log.exception("source %s: its problems could not be stored as given", name)
        _write_success(sessions, name, kind, result, [_safe(p, 500) for p in problems], now)


def _write_success(
    sessions: sessionmaker[Session],
    name: str,
    kind: str,
    result: PollResult,
    problems: Sequence[str],
    now: datetime,
) -> None:
    with sessions.begin() as session:
        for problem in problems:
            quarantine.add_problem(session, name, problem.split(": ", 1)[0][:512], problem, now)
            audit.record(session, now, "source_problem", detail=f"{name}: {problem}")
        state = sources.state(session, name, kind)
        if result.watermark is not None:
            state.watermark = result.watermark
        state.last_success_at = now
        if any(batch.rows for batch in result.batches):
            state.last_data_at = now
        state.failures = 0


def store_rows(
    sessions: sessionmaker[Session],
    source_name: str,
    label: str,
    rows: Sequence[SourceRow],
    naive_zone: tzinfo | None,
    policy: Policy,
    now: datetime,
    key: str | None = None,
) -> tuple[int, int]:
    """Store one batch of rows; returns (detentions changed, rejected). A row that cannot be
    read or stored is quarantined; raises ``StoreError`` only when the database fails."""
    zones = Zones(naive_zone, policy.zone)
    try:
        prepared = prepare_rows(rows, zones)
    except Exception:
        # The reader never raises for a bad row by contract; if one still makes it raise,
        # read the rows one at a time so that row alone is set aside.
        log.exception("reading %s raised; reading its rows one at a time", label)
        prepared = _prepare_one_by_one(rows, zones)
    return store_prepared(sessions, source_name, label, prepared, now, key)


def _prepare_one_by_one(rows: Sequence[SourceRow], zones: Zones) -> Prepared:
    prepared = Prepared()
    for row in rows:
        try:
            one = prepare_rows([row], zones)
        except Exception as exc:
            prepared.rows += 1
            prepared.rejected.append(
                Rejection(row.number, None, f"record: could not be read: {_class(exc)}", "")
            )
            continue
        prepared.rows += one.rows
        prepared.accepted.extend(one.accepted)
        prepared.rejected.extend(one.rejected)
    return prepared


def store_prepared(
    sessions: sessionmaker[Session],
    source_name: str,
    label: str,
    prepared: Prepared,
    now: datetime,
    key: str | None = None,
) -> tuple[int, int]:
    """Store one prepared batch, with the file's "read" mark when ``key`` names one;
    returns (detentions changed, rejected). One transaction when every row is taken;
    otherwise the rows the database refuses are found by halving and quarantined."""
    try:
        with sessions.begin() as session:
            changed = _record(session, source_name, label, prepared, now, key)
        return changed, len(prepared.rejected)
    except DATABASE_TROUBLE as exc:
        raise StoreError(_describe(exc)) from exc
    except Exception as exc:
        log.warning(
            "storing %s from %s failed (%s); storing its rows in parts",
            label,
            source_name,
            _class(exc),
        )
    changed = 0
    refused: list[Rejection] = []
    for stored, failures in _store_split(sessions, source_name, label, prepared.accepted, now):
        changed += stored
        refused.extend(_refusal(item, error) for item, error in failures)
    rejected = [*prepared.rejected, *refused]
    _finish_alone(sessions, source_name, label, prepared.rows, rejected, refused, now, key)
    return changed, len(rejected)


def store_prepared_together(
    sessions: sessionmaker[Session],
    source_name: str,
    label: str,
    batches: Iterable[tuple[T, Prepared]],
    now: datetime,
) -> list[tuple[T, int, int]]:
    """Batches of one feed (each with the caller's tag) stored in one transaction; returns
    (tag, detentions changed, rejected) for each, in order.

    Each batch is recorded as ``store_prepared`` records it alone: its versions chosen
    against what the batches before it stored, then its quarantine and the source's
    counters. So the store ends exactly as it would batch by batch, and a crash keeps the
    whole group or none of it. Fewer commits are the point: each rewrites every index page
    its rows touched, and rows with random keys touch most of them. If the database refuses
    anything, none of the group stays and each batch is stored again on its own by
    ``store_prepared``, which sets the refused rows aside. A failure to produce the batches
    (a worker's) is raised as it is, not taken for a refusal."""
    produced = iter(batches)  # once: what the transaction did not reach is taken after it
    taken: list[tuple[T, Prepared]] = []
    stored: list[tuple[T, int, int]] = []
    try:
        with sessions.begin() as session:
            for tag, prepared in _produced(produced):
                taken.append((tag, prepared))
                changed = _record(session, source_name, label, prepared, now, None)
                stored.append((tag, changed, len(prepared.rejected)))
        return stored
    except _ProducingFailed as failed:
        raise failed.error from None
    except DATABASE_TROUBLE as exc:
        raise StoreError(_describe(exc)) from exc
    except Exception as exc:
        log.warning(
            "storing %d batches of %s from %s together failed (%s); storing each alone",
            len(taken),
            label,
            source_name,
            _class(exc),
        )
    taken.extend(produced)  # the rest of the group, not reached
    return [(tag, *store_prepared(sessions, source_name, label, p, now)) for tag, p in taken]


class _ProducingFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _produced(produced: Iterator[tuple[T, Prepared]]) -> Iterator[tuple[T, Prepared]]:
    """``produced``, with a failure to produce the next one told apart from a refusal."""
    while True:
        try:
            batch = next(produced)
        except StopIteration:
            return
        except Exception as exc:
            raise _ProducingFailed(exc) from exc
        yield batch


def _store_split(
    sessions: sessionmaker[Session],
    source_name: str,
    label: str,
    items: Sequence[PreparedRow],
    now: datetime,
) -> Iterator[tuple[int, list[tuple[PreparedRow, BaseException]]]]:
    """Store ``items`` in file order, halving any part the database refuses down to single
    rows: a few bad rows among thousands cost a few dozen transactions, not thousands.
    Yields (detentions changed, [(refused row, its error)]) part by part."""
    if not items:
        return
    try:
        with sessions.begin() as session:
            changed = detentions.record_versions(
                session, source=source_name, batch=label, items=items, now=now
            )
        yield changed, []
        return
    except DATABASE_TROUBLE as exc:
        raise StoreError(_describe(exc)) from exc
    except Exception as exc:
        if len(items) == 1:
            yield 0, [(items[0], exc)]
            return
    middle = len(items) // 2
    yield from _store_split(sessions, source_name, label, items[:middle], now)
    yield from _store_split(sessions, source_name, label, items[middle:], now)


def _record(
    session: Session,
    source_name: str,
    label: str,
    prepared: Prepared,
    now: datetime,
    key: str | None,
) -> int:
    """One prepared batch in the caller's transaction: its versions, then its quarantine,
    the file's "read" mark and the source's counters; returns detentions changed."""
    # Versions within one batch are chosen by the feed's own rule, so row order inside a
    # file decides ties exactly as it does for `evaluate`.
    changed = detentions.record_versions(
        session, source=source_name, batch=label, items=prepared.accepted, now=now
    )
    _finish(session, source_name, label, prepared.rows, prepared.rejected, now, key)
    return changed


def _finish(
    session: Session,
    source_name: str,
    label: str,
    rows: int,
    rejected: Sequence[Rejection],
    now: datetime,
    key: str | None,
) -> None:
    """Quarantine, the file's "read" mark and the source's counters, in the caller's
    transaction."""
    quarantine.add(session, source_name, label, rejected, now)
    if key is not None:
        sources.mark_read(session, source_name, key, label, rows, len(rejected), now)
    state = sources.state(session, source_name, "import" if key is None else "")
    state.rows_read += rows
    state.rows_rejected += len(rejected)


def _finish_alone(
    sessions: sessionmaker[Session],
    source_name: str,
    label: str,
    rows: int,
    rejected: Sequence[Rejection],
    refused: Sequence[Rejection],
    now: datetime,
    key: str | None,
) -> None:
    """``_finish`` in its own transaction, after the rows were stored in parts. A rejection
    whose own text the database refuses (a NUL in its raw row) must not keep the file from
    being marked read, so a refusal here is retried with every rejection made safe."""
    for attempt in (rejected, [_made_safe(r) for r in rejected]):
        try:
            with sessions.begin() as session:
                _finish(session, source_name, label, rows, attempt, now, key)
                for refusal in refused:
                    audit.record(
                        session,
                        now,
                        "store_refused",
                        detail=f"{source_name}: {_safe(label, 200)} row {refusal.row}: "
                        f"{refusal.error}",
                        custody_ref=refusal.custody_ref,
                    )
            return
        except DATABASE_TROUBLE as exc:
            raise StoreError(_describe(exc)) from exc
        except Exception:
            log.exception("quarantining rows of %s failed", label)
    raise StoreError(f"{_safe(label, 200)}: its rejected rows could not be quarantined")


# --- why the database refused a row, by field ------------------------------------------------

_COLUMN_LIMITS = {
    name: getattr(DetentionRow.__table__.c[name].type, "length", None)
    for name in ("custody_ref", "suite", "force")
}


def _refusal(item: PreparedRow, error: BaseException) -> Rejection:
    """A stored row the database refused, as a quarantined row: the reason names the field
    when one can be found, and quotes at most ``QUOTE`` characters of any value."""
    record = _record_of(item)
    field = _bad_field(item, record)
    if field is None:
        reason = f"record: could not be stored: {_class(error)}"
    else:
        reason = f"{field[0]}: {field[1]}"
    ref_ok = _text_problem(item.custody_ref, _COLUMN_LIMITS["custody_ref"]) is None
    raw = json.dumps(
        {name: _quoted(value) for name, value in record.items()},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return Rejection(item.row, item.custody_ref if ref_ok else None, reason, raw)


def _record_of(item: PreparedRow) -> dict[str, object]:
    try:
        record = json.loads(item.record_json)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _bad_field(item: PreparedRow, record: dict[str, object]) -> tuple[str, str] | None:
    """The first field whose value no database column can take, and why."""
    for name in ("custody_ref", "suite", "force"):
        problem = _text_problem(getattr(item, name), _COLUMN_LIMITS[name])
        if problem is not None:
            return name, problem
    for name, value in record.items():
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            problem = _text_problem(text, None) if isinstance(text, str) else None
            if problem is not None:
                return _safe(name, QUOTE), problem
    return None


def _text_problem(value: object, limit: int | None) -> str | None:
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "contains a NUL character, which the database cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not a character), which cannot be stored"
    if limit is not None and len(value) > limit:
        return f"longer than {limit} characters"
    return None


def _quoted(value: object) -> object:
    if isinstance(value, str):
        return _safe(value, QUOTE)
    if isinstance(value, list):
        return [_quoted(v) for v in value]
    return value


def _made_safe(rejection: Rejection) -> Rejection:
    ref = rejection.custody_ref
    return Rejection(
        rejection.row,
        None if ref is None else _safe(ref, 128),
        _safe(rejection.error, 1000),
        _safe(rejection.raw, 4000),
    )


def _safe(text: str, limit: int) -> str:
    """``text`` as every database stores it: NULs and lone surrogates written as escapes,
    cut to ``limit`` characters."""
    clean = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _class(error: BaseException) -> str:
    """The error's class, for a reason: the driver's own when SQLAlchemy wraps one."""
    orig = getattr(error, "orig", None)
    return type(orig if isinstance(orig, BaseException) else error).__name__


def _describe(error: BaseException) -> str:
    """One line about ``error`` for people: its class and the driver's first line. Never
    SQLAlchemy's full text, which quotes the statement's parameters (personal data)."""
    orig = getattr(error, "orig", None)
    inner = orig if isinstance(orig, BaseException) else error
    first = (str(inner).strip().splitlines() or [""])[0]
    return _safe(f"{type(inner).__name__}: {first}" if first else type(inner).__name__, ERROR_TEXT)


def _record_failure(
    sessions: sessionmaker[Session], name: str, kind: str, error: str, now: datetime
) -> None:
    # Shown on /healthz and kept in the audit log: a feed's URL keeps its host and path,
    # never its credentials or query (an ?api_key=).
    error = _safe(redact_urls(error), ERROR_TEXT)
    with sessions.begin() as session:
        state = sources.state(session, name, kind)
        state.last_error = error
        state.last_error_at = now
        state.failures += 1
        audit.record(session, now, "source_failed", detail=f"{name}: {error}")


def _record_failure_quietly(
    sessions: sessionmaker[Session], name: str, kind: str, error: str, now: datetime
) -> None:
    """Record a failed source; when even that fails (the database is down), log it: the
    cycle must go on to the other sources and to sending what is already due."""
    error = redact_urls(error)
    try:
        _record_failure(sessions, name, kind, error, now)
    except Exception:
        log.exception("source %s failed (%s) and the failure could not be recorded", name, error)
