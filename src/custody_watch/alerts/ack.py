"""Acknowledging an alert: the first acknowledgement wins, pending pages are cancelled, and
everyone who was notified hears who owns it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.effects import carry_out
from custody_watch.alerts.links import EARLIER_ROUND
from custody_watch.alerts.transition import Notice, Transition
from custody_watch.domain import Severity
from custody_watch.domain.states import AlertState
from custody_watch.escalation.ladders import DEFAULT_ACK_TIMEOUT, from_json
from custody_watch.store import audit, outbox
from custody_watch.store.schema import AlertRow


@dataclass(frozen=True, slots=True)
class AckResult:
    ok: bool
    message: str
    alert_id: int | None = None


def acknowledge(
    session: Session,
    code: str,
    by: str,
    deps: AlertDeps,
    now: datetime,
    *,
    via: str = "cli",
) -> AckResult:
    alert = session.scalar(select(AlertRow).where(AlertRow.live_ack_code == code.strip()))
    if alert is None:
        audit.record(
            session,
            now,
            "ack_refused",
            actor=by,
            detail=f"no live alert with code {code!r} (via {via})",
        )
        return AckResult(False, f"no live alert has the code {code}")
    return acknowledge_alert(session, alert, by, deps, now, via=via)


def acknowledge_alert(
    session: Session,
    alert: AlertRow,
    by: str,
    deps: AlertDeps,
    now: datetime,
    *,
    via: str = "cli",
    ack_round: int | None = None,
) -> AckResult:
    """Acknowledge ``alert`` as ``by``:
    1. refuse what cannot be acknowledged (``_refusal``);
    2. claim it by a conditional update (``_claim``);
    3. cancel its unsent pages, audit, and tell everyone told that it is owned.

    ``ack_round``: the round a link was sent for; the acknowledgement happens only while the
    alert is still in that round (checked in the same conditional update as ``version``),
    so a link cannot outlive its round even when the round ends between the page's check
    and this update."""
    refused = _refusal(alert, ack_round)
    if refused is not None:
        return refused
    expires = _claim(session, alert, by, now)
    if expires is None:
        return AckResult(False, f"alert {alert.ack_code} changed meanwhile; try again", alert.id)
    outbox.cancel_pages(session, alert.id)
    audit.record(
        session,
        now,
        "acknowledged",
        actor=by,
        detail=(
            f"code {alert.ack_code} via {via}; re-escalates at {expires.isoformat()} if still live"
        ),
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )
    told = tuple(outbox.told(session, alert.id))
    notice = Notice("acknowledged", told, f"acknowledged by {by}")
    carry_out(session, Transition(alert, acknowledged=True, notice=notice), deps, now)
    return AckResult(True, f"alert {alert.ack_code} acknowledged by {by}", alert.id)


def _refusal(alert: AlertRow, ack_round: int | None) -> AckResult | None:
    """Why ``alert`` is not to be acknowledged now (an acknowledged one is answered as
    done), or None."""
    if ack_round is not None and alert.ack_round != ack_round:
        return AckResult(False, EARLIER_ROUND, alert.id)
    if alert.state == AlertState.ACKNOWLEDGED:
        return AckResult(
            True,
            f"alert {alert.ack_code} was already acknowledged by {alert.acknowledged_by}",
            alert.id,
        )
    if alert.state != AlertState.OPEN:
        return AckResult(False, f"alert {alert.ack_code} is {alert.state}", alert.id)
    return None


def _claim(session: Session, alert: AlertRow, by: str, now: datetime) -> datetime | None:
    """Acknowledge ``alert`` in the store if nobody moved it since it was read; returns when
    the acknowledgement expires, or None when another daemon or request got there first."""
    ladder = from_json(alert.escalation).get(Severity(alert.severity))
    expires = now + (ladder.ack_timeout if ladder else DEFAULT_ACK_TIMEOUT)
    # The acknowledgement ends the round too (a link is single-use): ack_round moves on.
    claimed = session.execute(
        update(AlertRow)
        .where(
            AlertRow.id == alert.id,
            AlertRow.state == AlertState.OPEN,
            AlertRow.version == alert.version,
            AlertRow.ack_round == alert.ack_round,
        )
        .values(
            state=AlertState.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by=by,
            first_acknowledged_at=alert.first_acknowledged_at or now,
            ack_expires_at=expires,
            next_action_at=expires,
            version=alert.version + 1,
            ack_round=alert.ack_round + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(alert)
    return expires
