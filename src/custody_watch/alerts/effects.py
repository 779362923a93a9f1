"""Acting on a decided ``Transition``, in the caller's transaction: its pages become outbox
rows (``paging``) and the roles they found empty or filled raise or clear
``nobody_on_call`` (``system``), whose own transitions are carried out the same way.

The order is the one the alert's audit trail has always had: for each page, the roles found
held again are cleared first, then the page is queued (and its step recorded), then the
roles found empty are raised; the notice (acknowledged, resolved) comes last."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from custody_watch.alerts import paging, system
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.transition import Transition


def carry_out(session: Session, transition: Transition, deps: AlertDeps, now: datetime) -> None:
    alert = transition.alert
    if alert is None:
        return
    for page in transition.pages:
        for role in page.filled_roles:
            filled = system.nobody_on_call(session, role, deps, now, covered=True)
            carry_out(session, filled, deps, now)
        paging.page(session, alert, page, deps, now)
        for role in page.empty_roles:
            empty = system.nobody_on_call(session, role, deps, now, covered=False, about=alert)
            carry_out(session, empty, deps, now)
    if transition.notice is not None:
        paging.notify(session, alert, transition.notice, deps, now)
