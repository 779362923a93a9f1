"""The daemon's own row in ``daemon_beats``: a write every tick and every heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
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
    if result.rowcount != 0:  # type: ignore[attr-defined]
        return
    # A new worker's first beat comes from the tick and the heartbeat job at once: on
    # PostgreSQL both updates find nothing and both insert. The loser's beat is the winner's.
    try:
        with session.begin_nested():
            session.add(DaemonBeatRow(worker=worker, started_at=now, beat_at=now))
    except IntegrityError:
        session.execute(
            update(DaemonBeatRow)
            .where(DaemonBeatRow.worker == worker)
            .values(beat_at=now)
            .execution_options(synchronize_session=False)
        )
