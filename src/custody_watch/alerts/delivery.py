"""The alert side of sending, as the dispatcher asks for it (``dispatch.alert_side``): a
page's words as of its send, and what a failed or successful delivery means for alerts.

Built by the daemon (and the web side, for Twilio's status callbacks) around the one
``AlertDeps``; every consequence lands in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from custody_watch.alerts import paging, system
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.effects import carry_out
from custody_watch.domain.states import AlertState
from custody_watch.messages.render import Rendered
from custody_watch.store.schema import AlertRow, OutboxRow


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    deps: AlertDeps

    def page_as_of(self, session: Session, row: OutboxRow, at: datetime) -> bool:
        return paging.refresh(session, row, self.deps, at)

    def bundle_as_of(
        self, session: Session, rows: Sequence[OutboxRow], at: datetime
    ) -> Rendered | None:
        return paging.bundle_as_of(session, rows, self.deps, at)

    def unreachable(
        self, session: Session, row: OutboxRow, summary: str, at: datetime, *, operations: bool
    ) -> None:
        """``delivery_failed`` about the row's person (operations hear first; when they are
        the ones who cannot be reached, the duty inspector hears at once), then the alert's
        own ladder moves to its next level now instead of after the wait."""
        outcome = system.Unreachable(row.person_id, summary, with_inspector=operations)
        carry_out(session, system.delivery_failed(session, outcome, self.deps, at), self.deps, at)
        alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
        if alert is not None and alert.state == AlertState.OPEN and alert.live_key is not None:
            # Escalate early: the next level must not wait for someone who never got the page.
            alert.next_action_at = at
            alert.version += 1

    def reached(self, session: Session, row: OutboxRow, at: datetime) -> None:
        """Reached again: a ``delivery_failed`` alert about this person is over."""
        outcome = system.Reached(row.person_id, row.channel)
        carry_out(session, system.delivery_failed(session, outcome, self.deps, at), self.deps, at)
