"""Finding a row named in a URL. A path segment is whatever a client typed: an id past the
database's 64-bit integers must be "no such alert" (404), not a driver overflow (500)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from custody_watch.store.schema import AlertRow

# Ids are BIGINT on PostgreSQL and INTEGER (64-bit) on SQLite; ids start at 1.
LARGEST_ID = 2**63 - 1


def alert_by_id(session: Session, alert_id: int) -> AlertRow | None:
    if not 1 <= alert_id <= LARGEST_ID:
        return None
    return session.get(AlertRow, alert_id)
