"""What the dispatcher needs from the alert side, as a small interface the daemon wires up
(``alerts.delivery.AlertDelivery``).

Dispatch comes after the alerts in the pipeline: it sends what they queued, and reports
back what happened. It never imports how alerts are decided or paged (``alerts.lifecycle``,
``alerts.paging``), so the alert core cannot loop back through the sender; it asks through
this interface instead, and is tested with the real implementation. Why an interface and
not outcomes as data: a failure's consequences (another channel, ``delivery_failed``, the
alert's next level now) must land in the same transaction as the row marked failed, and a
page's words are made at the moment it is sent, inside the send's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from custody_watch.alerts.deps import AlertDeps
from custody_watch.messages.render import Rendered
from custody_watch.store.schema import OutboxRow


class AlertSide(Protocol):
    @property
    def deps(self) -> AlertDeps:
        """Who is who and how to reach them (``fallback``), and the bundle window."""
        ...

    def page_as_of(self, session: Session, row: OutboxRow, at: datetime) -> bool:
        """Make a claimed page's text again as of ``at``, on the row; False: as decided."""
        ...

    def bundle_as_of(
        self, session: Session, rows: Sequence[OutboxRow], at: datetime
    ) -> Rendered | None:
        """One message for pages about several alerts (one row an alert), as of ``at``."""
        ...

    def unreachable(
        self, session: Session, row: OutboxRow, summary: str, at: datetime, *, operations: bool
    ) -> None:
        """Nobody could be reached for ``row`` on any channel (``summary`` says why);
        ``operations``: operations themselves could not be told."""
        ...

    def reached(self, session: Session, row: OutboxRow, at: datetime) -> None:
        """``row`` (a page) went: its person can be reached again."""
        ...
