"""Twilio's webhooks: inbound SMS (``ACK 4821`` acknowledges; answered with TwiML) and
message status callbacks.

Both prove themselves by ``X-Twilio-Signature``, checked with the twilio SDK's own
``RequestValidator`` against ``[web] public_base_url`` + the path and query this request
came to, so a request signed for another URL (another path, another ``?m=``) fails. A missing
or wrong signature is refused with 403 and an audit entry; with no auth token configured the
webhooks are off and refuse everything (never fail open).

Twilio retries webhooks: inbound messages are handled once per ``MessageSid`` (see
``alerts.inbound``); status callbacks once per (``MessageSid``, status). A status only ever
moves forward (callbacks arrive out of order); ``failed``/``undelivered`` marks the message
failed through ``dispatch.failure.record_failure``, as the dispatcher's own sends are: its
fallback tries another channel or escalates at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.inbound import handle_inbound_sms
from custody_watch.dispatch.failure import record_failure
from custody_watch.domain.states import OutboxState
from custody_watch.notify.base import NOT_DELIVERED
from custody_watch.store import audit
from custody_watch.store.schema import OutboxRow, WebhookEventRow
from custody_watch.web.app_context import WebContext

SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"
# Twilio's message statuses in the order they happen; the finals share a rank, so a late
# "failed" cannot overwrite "delivered" or the other way round. "read" follows "delivered".
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}
XML = "application/xml"

router = APIRouter(include_in_schema=False)


class Params(dict[str, list[str]]):
    """Form fields as the validator wants them: every value of a repeated name."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def first(self, *names: str) -> str:
        for name in names:
            values = self.get(name)
            if values:
                return values[0]
        return ""


def public_url(base: str, request: Request) -> str:
    """The URL Twilio requested, as the public side sees it: behind a proxy the request's own
    host and scheme are not what Twilio signed, ``public_base_url`` is."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return base.rstrip("/") + request.url.path + (f"?{query}" if query else "")


async def _bounded_body(request: Request) -> bytes | None:
    """The body, read as it streams in, or None past ``MAX_BODY``: a Content-Length is only
    a claim, and a chunked body has none, so bytes are counted as they arrive and nothing
    is parsed or written anywhere before the limit is known to hold."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _params_of(body: bytes) -> Params:
    """Twilio posts ``application/x-www-form-urlencoded``; every value is text."""
    params = Params()
    text = body.decode("utf-8", errors="replace")
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=1000):
        params.setdefault(name, []).append(value)
    return params


def _refuse(
    web: WebContext, request: Request, kind: str, reason: str, status_code: int = 403
) -> Response:
    client = request.client.host if request.client else "unknown"
    with web.sessions.begin() as session:
        audit.record(
            session,
            web.clock.now(),
            "webhook_refused",
            actor=client,
            detail=f"twilio {kind}: {reason}",
        )
    text = "webhook off" if web.twilio_auth_token is None else "forbidden"
    if status_code != 403:
        text = {413: "body too large", 415: "unsupported media type"}.get(status_code, text)
    return Response(text, status_code=status_code, media_type="text/plain")


async def verified(request: Request, kind: str) -> Params | Response:
    """The form, if Twilio signed this request; else the refusal to send back."""
    web: WebContext = request.app.state.web
    token = web.twilio_auth_token
    if token is None:
        return await run_in_threadpool(
            _refuse, web, request, kind, "webhook off: no Twilio auth token is configured"
        )
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return await run_in_threadpool(_refuse, web, request, kind, f"no {SIGNATURE_HEADER}")
    body = await _bounded_body(request)
    if body is None:
        return await run_in_threadpool(_refuse, web, request, kind, "body too large", 413)
    if not request.headers.get("content-type", "").startswith(FORM):
        return await run_in_threadpool(_refuse, web, request, kind, "not a Twilio form", 415)
    params = _params_of(body)
    url = public_url(web.settings.web.public_base_url, request)
    # The validator compares in constant time and tries the URL with and without the port.
    if not RequestValidator(token).validate(url, params, signature):
        return await run_in_threadpool(
            _refuse, web, request, kind, f"signature does not match {url}"
        )
    return params


def twiml(reply: str | None, status_code: int = 200) -> Response:
    body = "" if reply is None else f"<Message>{escape(reply)}</Message>"
    return Response(f"<Response>{body}</Response>", status_code=status_code, media_type=XML)


@router.post("/twilio/inbound")
async def inbound(request: Request) -> Response:
    checked = await verified(request, "inbound")
    if isinstance(checked, Response):
        return checked
    sid = checked.first("MessageSid", "SmsSid")
    if not sid:
        return twiml(None, 400)
    web: WebContext = request.app.state.web
    reply = await run_in_threadpool(
        _inbound, web, sid, checked.first("From"), checked.first("Body")
    )
    return twiml(reply)


def _inbound(web: WebContext, sid: str, sender: str, body: str) -> str | None:
    with web.sessions.begin() as session:
        result = handle_inbound_sms(
            session,
            message_sid=sid,
            from_number=sender,
            body=body,
            deps=web.alerts,
            now=web.clock.now(),
        )
    return result.reply


@router.post("/twilio/status")
async def status_callback(request: Request) -> Response:
    checked = await verified(request, "status")
    if isinstance(checked, Response):
        return checked
    sid = checked.first("MessageSid", "SmsSid")
    status = checked.first("MessageStatus", "SmsStatus").strip().lower()
    if not sid or not status:
        return Response("MessageSid and MessageStatus are required", 400)
    web: WebContext = request.app.state.web
    await run_in_threadpool(
        record_status,
        web,
        request.query_params.get("m"),
        sid,
        status,
        checked.first("ErrorCode") or None,
        {name: values[0] if len(values) == 1 else values for name, values in checked.items()},
    )
    return Response(status_code=204)


def record_status(
    web: WebContext,
    token: str | None,
    sid: str,
    status: str,
    error_code: str | None,
    payload: dict[str, Any],
) -> str:
    """Apply one status callback; returns what happened (for tests and logs)."""
    now = web.clock.now()
    with web.sessions.begin() as session:
        row = session.scalar(select(OutboxRow).where(OutboxRow.token == token)) if token else None
        if row is None:
            row = session.scalar(
                select(OutboxRow).where(OutboxRow.provider_id == sid).order_by(OutboxRow.id)
            )
        if row is None:
            audit.record(session, now, "status_unknown", detail=f"{sid} {status}: no such message")
            return "unknown"
        if row.provider_id is not None and row.provider_id != sid:
            audit.record(
                session,
                now,
                "status_mismatch",
                detail=f"callback for {sid} names message {row.id}, sent as {row.provider_id}",
            )
            return "mismatch"
        if not _first_time(session, sid, status, payload, now):
            return "duplicate"
        row.provider_id = sid  # the callback can beat the sender's own record of the sid
        # A bundle went as one message, so its status is every page's in it: each row that
        # carries the sid (the callback URL names the first) moves, and a failure is each
        # page's own, with its own fallback and early escalation.
        others = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.provider_id == sid, OutboxRow.id != row.id)
            .order_by(OutboxRow.id)
        ).all()
        outcome = _apply_status(session, web, row, status, error_code, now)
        for other in others:
            _apply_status(session, web, other, status, error_code, now)
        return outcome


def _apply_status(
    session: Session,
    web: WebContext,
    row: OutboxRow,
    status: str,
    error_code: str | None,
    now: datetime,
) -> str:
    before = STATUS_RANK.get(row.provider_status or "queued", 0)
    rank = STATUS_RANK.get(status)
    if rank is None or rank <= before:
        return "stale"
    row.provider_status = status
    if status not in NOT_DELIVERED or row.state == OutboxState.FAILED:
        return status
    row.error_code = error_code
    row.last_error = f"Twilio: {status}" + (f" (error {error_code})" if error_code else "")
    record_failure(session, row, f": {row.last_error}", now, AlertDelivery(web.alerts))
    return status


def _first_time(
    session: Session, sid: str, status: str, payload: dict[str, Any], now: datetime
) -> bool:
    seen = session.scalar(
        select(WebhookEventRow.id).where(
            WebhookEventRow.kind == "status",
            WebhookEventRow.message_sid == sid,
            WebhookEventRow.status == status,
        )
    )
    if seen is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                WebhookEventRow(
                    kind="status", message_sid=sid, status=status, received_at=now, payload=payload
                )
            )
    except IntegrityError:
        return False  # the same retry arrived twice at once
    return True
