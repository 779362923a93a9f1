"""An SMS from a phone: ``ACK 4821`` acknowledges (``ACK ALL``: every open alert the sender
was paged for); STOP and friends raise an operations
alert (an inspector who cannot be texted is a hole in the rota); anything else gets help.

Called by the Twilio webhook once its signature is checked. Twilio retries webhooks, so each
``MessageSid`` is handled once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custody_watch.alerts import system
from custody_watch.alerts.ack import acknowledge, acknowledge_alert
from custody_watch.alerts.deps import AlertDeps, Person
from custody_watch.alerts.effects import carry_out
from custody_watch.domain import Severity
from custody_watch.domain.states import TOLD_STATES, AlertState
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow, OutboxRow, WebhookEventRow

# Words Twilio itself acts on for long codes (advanced opt-out). Ack codes are digits, so a
# reply can never be both an ack and an opt-out.
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT", "CANCEL"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
_ACK_ALL = re.compile(r"^\s*(?:ACK|ACKNOWLEDGE|OK)\s+ALL\s*[.!]?\s*$", re.IGNORECASE)
_ACK = re.compile(r"^\s*(?:ACK|ACKNOWLEDGE|OK)?\s*#?\s*(\d{4,6})\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class InboundResult:
    reply: str | None  # text to answer with (TwiML <Message>), None for an empty response
    outcome: (
        str  # acknowledged | refused | unknown_sender | opted_out | opted_in | help | duplicate
    )


def handle_inbound_sms(
    session: Session,
    *,
    message_sid: str,
    from_number: str,
    body: str,
    deps: AlertDeps,
    now: datetime,
) -> InboundResult:
    if not _first_time(session, message_sid, from_number, body, now):
        return InboundResult(None, "duplicate")
    person = _person_with_phone(deps, from_number)
    if person is None:
        audit.record(
            session,
            now,
            "inbound_unknown_sender",
            actor=from_number,
            detail=f"SMS {message_sid} ignored: the number is not in the rota",
        )
        return InboundResult(None, "unknown_sender")
    word = body.strip().upper()
    if word in OPT_OUT:
        _opted_out(session, person, deps, now)
        return InboundResult(None, "opted_out")
    if word in OPT_IN:
        cause = f"{person.id} texted {word}"
        opted_in = system.clear_system(session, f"opted_out:{person.id}", deps, now, cause)
        carry_out(session, opted_in, deps, now)
        return InboundResult(None, "opted_in")
    if _ACK_ALL.match(body):
        return _acknowledge_all(session, person, deps, now)
    match = _ACK.match(body)
    if match is None:
        audit.record(session, now, "inbound_unrecognised", actor=person.id, detail=body[:160])
        return InboundResult(
            "custody-watch: reply ACK and the alert's code, e.g. ACK 4821, or ACK ALL.", "help"
        )
    result = acknowledge(session, match[1], person.id, deps, now, via="sms")
    return InboundResult(
        f"custody-watch: {result.message}.", "acknowledged" if result.ok else "refused"
    )


def _acknowledge_all(
    session: Session, person: Person, deps: AlertDeps, now: datetime
) -> InboundResult:
    """``ACK ALL``: every open alert this person was paged for (a bundled SMS lists several),
    acknowledged as if each code had been sent. Alerts they were never paged for stay as they
    are: a reply cannot own what its sender was not told about."""
    paged = select(OutboxRow.alert_id).where(
        OutboxRow.person_id == person.id,
        OutboxRow.purpose == "notify",
        OutboxRow.state.in_(TOLD_STATES),
    )
    alerts = session.scalars(
        select(AlertRow)
        .where(AlertRow.state == AlertState.OPEN, AlertRow.id.in_(paged))
        .order_by(AlertRow.id)
    ).all()
    if not alerts:
        audit.record(
            session, now, "ack_refused", actor=person.id, detail="ACK ALL: no open alert paged"
        )
        return InboundResult("custody-watch: no open alert was paged to you.", "refused")
    done = [acknowledge_alert(session, alert, person.id, deps, now, via="sms") for alert in alerts]
    codes = [alert.ack_code for alert, r in zip(alerts, done, strict=True) if r.ok]
    refused = [r.message for r in done if not r.ok]
    reply = f"custody-watch: acknowledged {len(codes)} alerts by {person.id}: {' '.join(codes)}"
    if refused:
        reply += f"; not acknowledged: {'; '.join(refused)}"
    return InboundResult(reply + ".", "acknowledged" if codes else "refused")


def _first_time(session: Session, sid: str, sender: str, body: str, now: datetime) -> bool:
    exists = session.scalar(
        select(WebhookEventRow.id).where(
            WebhookEventRow.kind == "inbound", WebhookEventRow.message_sid == sid
        )
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                WebhookEventRow(
                    kind="inbound",
                    message_sid=sid,
                    status="",
                    received_at=now,
                    payload={"from": sender, "body": body[:1600]},
                )
            )
    except IntegrityError:
        return False  # the same retry arrived twice at once
    return True


def _person_with_phone(deps: AlertDeps, number: str) -> Person | None:
    wanted = re.sub(r"[^\d+]", "", number)
    for person in deps.directory.people.values():
        if person.phone and re.sub(r"[^\d+]", "", person.phone) == wanted:
            return person
    return None


def _opted_out(session: Session, person: Person, deps: AlertDeps, now: datetime) -> None:
    audit.record(session, now, "inbound_opt_out", actor=person.id, detail="texted an opt-out word")
    summary = (
        f"{person.id} ({person.name}) opted out of SMS from custody-watch: they will get no "
        "SMS alerts until they text START"
    )
    problem = system.Problem(f"opted_out:{person.id}", "opted_out", Severity.HIGH, now, summary)
    carry_out(session, system.raise_system(session, problem, deps, now), deps, now)
