"""Status callbacks: statuses only move forward, each (MessageSid, status) acts once, and a
failed or undelivered message escalates early."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from custody_watch.store.schema import AlertRow, OutboxRow, WebhookEventRow
from fakes.twilio_api import FakeTwilio

from . import support
from .support import PUBLIC, ROWS, T0, Site, make_site


def callback(
    site: Site, status: str, error: str | None = None, *, by_sid_only: bool = False
) -> httpx.Response:
    message = site.twilio.messages[0]
    assert message.status_callback is not None
    params = {
        "AccountSid": message.account_sid,
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": message.from_,
        "To": message.to,
        "ApiVersion": "2010-04-01",
    }
    if error:
        params["ErrorCode"] = error
    if by_sid_only:
        return site.signed_post("/twilio/status", params)
    path = message.status_callback.removeprefix(PUBLIC)
    return site.signed_post(path, params, url=message.status_callback)


def sms_row(site: Site) -> OutboxRow:
    sid = site.twilio.messages[0].sid
    return next(row for row in site.outbox() if row.provider_id == sid)


def test_the_callback_url_carries_the_row_token(site: Site) -> None:
    row = sms_row(site)
    assert site.twilio.messages[0].status_callback == f"{PUBLIC}/twilio/status?m={row.token}"


def test_status_moves_forward_only(site: Site) -> None:
    assert callback(site, "sent").status_code == 204
    assert sms_row(site).provider_status == "sent"
    assert callback(site, "delivered").status_code == 204
    assert sms_row(site).provider_status == "delivered"
    # Late and out of order: never backwards.
    assert callback(site, "sending").status_code == 204
    assert callback(site, "queued").status_code == 204
    assert sms_row(site).provider_status == "delivered"
    # A final status never replaces another final one.
    assert callback(site, "undelivered", "30003").status_code == 204
    row = sms_row(site)
    assert row.provider_status == "delivered"
    assert row.state == "sent"
    with site.ctx.sessions() as session:
        seen = session.scalars(
            select(WebhookEventRow.status).where(WebhookEventRow.kind == "status")
        )
        assert sorted(seen) == sorted(["sent", "delivered", "sending", "queued", "undelivered"])


def test_found_by_message_sid_without_the_token(site: Site) -> None:
    assert callback(site, "delivered", by_sid_only=True).status_code == 204
    assert sms_row(site).provider_status == "delivered"


def test_failed_escalates_early(site: Site) -> None:
    before = site.alert()
    assert before.next_action_at is not None and before.next_action_at > T0
    site.clock.set(T0.replace(minute=3))
    now = site.clock.now()
    assert callback(site, "failed", "30006").status_code == 204
    row = sms_row(site)
    assert (row.state, row.provider_status, row.error_code) == ("failed", "failed", "30006")
    alert = site.alert()
    assert alert.next_action_at == now  # the next level does not wait for the 10 minutes
    with site.ctx.sessions() as session:
        system = session.scalar(
            select(AlertRow).where(AlertRow.live_key == "delivery_failed:insp-a")
        )
    assert system is not None and system.severity == "critical"
    assert any("30006" in a.detail for a in site.audit("send_failed"))


def test_a_retried_failure_acts_once(site: Site) -> None:
    assert callback(site, "undelivered", "30003").status_code == 204
    failed = [row.id for row in site.outbox() if row.state == "failed"]
    audit, outbox = len(site.audit()), len(site.outbox())
    assert callback(site, "undelivered", "30003").status_code == 204
    assert [row.id for row in site.outbox() if row.state == "failed"] == failed
    assert len(site.outbox()) == outbox
    assert len(site.audit()) == audit


def test_unknown_message_is_acknowledged_and_noted(site: Site) -> None:
    params = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    response = site.signed_post("/twilio/status", params)
    assert response.status_code == 204
    assert site.audit("status_unknown")


# C-3 as C-1: a 15-year-old held 16 hours with no review. Two critical alerts paged to the
# same inspector in the same minute go as one SMS (``[notify] bundle_window``).
_C1 = ROWS.splitlines(keepends=True)[0]
TWO_CHILDREN = ROWS.replace(_C1, _C1 + _C1.replace("C-1,", "C-3,").replace("P-7781-ZX", "P-7790"))


def test_a_bundle_not_delivered_fails_every_page_in_it_each_with_its_fallback(
    tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(support, "ROWS", TWO_CHILDREN)
    site = make_site(tmp_path, twilio)
    try:
        [message] = twilio.messages  # one SMS for both alerts
        carried = [row for row in site.outbox() if row.provider_id == message.sid]
        assert len(carried) == 2 and {row.state for row in carried} == {"sent"}
        site.clock.set(T0.replace(minute=3))
        now = site.clock.now()
        # The callback URL names the bundle's first page only.
        assert callback(site, "undelivered", "30003").status_code == 204
        after = [row for row in site.outbox() if row.provider_id == message.sid]
        assert {(row.state, row.provider_status, row.error_code) for row in after} == {
            ("failed", "undelivered", "30003")
        }
        for ref in ("C-1", "C-3"):  # each alert's next level does not wait
            assert site.alert(ref).next_action_at == now
        failures = [a for a in site.audit("send_failed") if "30003" in a.detail]
        assert sorted(a.alert_id for a in failures) == sorted(row.alert_id for row in after)
        # Twilio's retry of the same callback acts on none of them again.
        audit = len(site.audit())
        assert callback(site, "undelivered", "30003").status_code == 204
        assert len(site.audit()) == audit
    finally:
        site.client.close()
        site.ctx.engine.dispose()
