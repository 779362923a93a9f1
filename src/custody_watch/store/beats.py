"""The daemon's own row in ``daemon_beats``: a write every tick and every heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from custody_watch.store.schema import DaemonBeatRow


def beat(session: Session, worker: str, now: datetime) -> None:
    """Record that ``worker`` is alive and can write; raises when the store refuses."""
    result = session.execute(
        update(DaemonBeatRow)
        .where(DaemonBeatRow.worker == worker)
        .values(beat_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(DaemonBeatRow(worker=worker, started_at=now, beat_at=now))
        session.flush()
