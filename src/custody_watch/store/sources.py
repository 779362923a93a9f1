"""What we know of each source: watermark, last success, last error, files already read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custody_watch.store.schema import SourceFileRow, SourceStateRow


def state(session: Session, name: str, kind: str) -> SourceStateRow:
    row = session.get(SourceStateRow, name)
    if row is not None:
        return row
    # The poll and tick jobs (and other daemons) may both meet a new source first: the
    # loser of the insert takes the winner's row instead of failing its step.
    try:
        with session.begin_nested():
            session.add(
                SourceStateRow(name=name, kind=kind, failures=0, rows_read=0, rows_rejected=0)
            )
    except IntegrityError:
        pass
    row = session.get(SourceStateRow, name)
    assert row is not None
    return row


def all_states(session: Session) -> Sequence[SourceStateRow]:
    return session.scalars(select(SourceStateRow).order_by(SourceStateRow.name)).all()


class SeenFiles:
    """``sources.base.SeenKeys`` backed by the ``source_files`` table."""

    def __init__(self, session: Session, source: str) -> None:
        self._session = session
        self._source = source

    def seen(self, key: str) -> bool:
        return read_before(self._session, self._source, key) is not None


def mark_read(
    session: Session, source: str, key: str, label: str, rows: int, rejected: int, now: datetime
) -> None:
    session.add(
        SourceFileRow(
            source=source, key=key, label=label, received_at=now, rows=rows, rejected=rejected
        )
    )


def read_before(session: Session, source: str, key: str) -> SourceFileRow | None:
    query = select(SourceFileRow).where(SourceFileRow.source == source, SourceFileRow.key == key)
    return session.scalar(query)
