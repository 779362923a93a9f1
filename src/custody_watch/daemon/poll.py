"""Polling one source into the store: rows -> detentions (versions) or quarantine.

Each batch (a file, a page) is stored in one transaction together with the file's "read"
mark, and the watermark moves only after all batches are stored: a crash re-reads, never
loses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session, sessionmaker

from custody_watch.ingest.prepare import Prepared, Zones, prepare_rows
from custody_watch.ingest.rows import SourceRow
from custody_watch.rules.policy import Policy
from custody_watch.sources.base import PollResult, Source, SourceError
from custody_watch.store import audit, detentions, quarantine, sources
from custody_watch.times import parse_zone

log = logging.getLogger(__name__)


MAX_PAGES_PER_POLL = 200


def poll_source(
    sessions: sessionmaker[Session],
    source: Source,
    kind: str,
    naive_timezone: str | None,
    policy: Policy,
    now: datetime,
) -> int:
    """Poll once (following ``more`` while a backlog streams in); returns how many detentions
    changed. Never raises for bad data or a failing source."""
    naive_zone = parse_zone(naive_timezone) if naive_timezone else None
    changed = 0
    for _ in range(MAX_PAGES_PER_POLL):
        with sessions.begin() as session:
            state = sources.state(session, source.name, kind)
            state.last_poll_at = now
            state.first_poll_at = state.first_poll_at or now
            watermark = state.watermark
        try:
            with sessions.begin() as session:
                result = source.poll(watermark, sources.SeenFiles(session, source.name), now)
        except SourceError as exc:
            _record_failure(sessions, source.name, kind, str(exc), now)
            return changed
        except Exception as exc:  # a bug or library surprise must not stop the daemon
            log.exception("source %s failed", source.name)
            _record_failure(sessions, source.name, kind, f"unexpected error: {exc!r}", now)
            return changed
        for batch in result.batches:
            changed += store_rows(
                sessions, source.name, batch.label, batch.rows, naive_zone, policy, now, batch.key
            )[0]
        _record_success(sessions, source.name, kind, result, now)
        if not result.more:
            break
    return changed


def _record_success(
    sessions: sessionmaker[Session], name: str, kind: str, result: PollResult, now: datetime
) -> None:
    with sessions.begin() as session:
        for problem in result.problems:
            quarantine.add_problem(session, name, problem.split(": ", 1)[0], problem, now)
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
    """Store one batch of rows in one transaction; returns (detentions changed, rejected)."""
    prepared = prepare_rows(rows, Zones(naive_zone, policy.zone))
    return store_prepared(sessions, source_name, label, prepared, now, key)


def store_prepared(
    sessions: sessionmaker[Session],
    source_name: str,
    label: str,
    prepared: Prepared,
    now: datetime,
    key: str | None = None,
) -> tuple[int, int]:
    """Store one prepared batch in one transaction, with the file's "read" mark when ``key``
    names one; returns (detentions changed, rejected)."""
    with sessions.begin() as session:
        # Versions within one batch are chosen by the feed's own rule, so row order inside
        # a file decides ties exactly as it does for `evaluate`.
        changed = detentions.record_versions(
            session, source=source_name, batch=label, items=prepared.accepted, now=now
        )
        quarantine.add(session, source_name, label, prepared.rejected, now)
        rejected = len(prepared.rejected)
        if key is not None:
            sources.mark_read(session, source_name, key, label, prepared.rows, rejected, now)
        state = sources.state(session, source_name, "import" if key is None else "")
        state.rows_read += prepared.rows
        state.rows_rejected += rejected
    return changed, rejected


def _record_failure(
    sessions: sessionmaker[Session], name: str, kind: str, error: str, now: datetime
) -> None:
    with sessions.begin() as session:
        state = sources.state(session, name, kind)
        state.last_error = error
        state.last_error_at = now
        state.failures += 1
        audit.record(session, now, "source_failed", detail=f"{name}: {error}")
