"""When the store next has work: the earliest instant a detention must be re-evaluated, an
alert must step, or a message is due. Each is the minimum of an indexed column, so asking
costs three index lookups whatever the size of the history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custody_watch.domain.states import OutboxState
from custody_watch.store.schema import AlertRow, DetentionRow, OutboxRow


def earliest_after(session: Session, after: datetime) -> datetime | None:
    """The first instant strictly after ``after`` at which something becomes due.

    Work already due at ``after`` is not counted: a tick that started then has seen it, and
    what it left (a budget spent, a send backing off) is taken up by the regular tick, so
    waking early for it would only spin."""
    candidates = (
        select(func.min(DetentionRow.next_check_at)).where(DetentionRow.next_check_at > after),
        select(func.min(AlertRow.next_action_at)).where(AlertRow.next_action_at > after),
        select(func.min(OutboxRow.due_at)).where(
            OutboxRow.state == OutboxState.PENDING, OutboxRow.due_at > after
        ),
    )
    found = [session.scalar(query) for query in candidates]
    return min((at for at in found if at is not None), default=None)
