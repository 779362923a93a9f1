"""X-Twilio-Signature: Twilio's published test vector, requests signed by the SDK's own
RequestValidator, and forged, replayed, unsigned and "webhook off" requests refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi import Request, Response
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from custody_watch.web.app import create_app
from custody_watch.web.twilio_hooks import twiml, verified
from fakes.twilio_api import FakeTwilio

from .support import PUBLIC, Site, make_site

# Twilio's documented example (twilio.com/docs/usage/security, "Test the validity...").
VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

INBOUND = {
    "MessageSid": "SM" + "a" * 32,
    "AccountSid": "AC" + "0" * 32,
    "From": "+447700900001",
    "To": "+447700900000",
    "Body": "hello",
}


def test_twilio_published_vector_with_the_sdk() -> None:
    validator = RequestValidator(VECTOR_TOKEN)
    assert validator.compute_signature(VECTOR_URL, VECTOR_PARAMS) == VECTOR_SIGNATURE
    assert validator.validate(VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)
    assert not validator.validate(VECTOR_URL, {**VECTOR_PARAMS, "Digits": "1235"}, VECTOR_SIGNATURE)


def test_twilio_published_vector_through_the_app(tmp_path: Path, twilio: FakeTwilio) -> None:
    """An app whose public URL and token are the vector's accepts exactly the vector's
    request at /myapp.php?foo=1&bar=2, through the same check the webhooks use."""
    site = make_site(tmp_path, twilio, public="https://mycompany.com")
    app = create_app(replace(site.web, twilio_auth_token=VECTOR_TOKEN))

    @app.post("/myapp.php")
    async def vector(request: Request) -> Response:
        checked = await verified(request, "vector")
        return checked if isinstance(checked, Response) else twiml(None)

    with TestClient(app) as client:
        headers = {"X-Twilio-Signature": VECTOR_SIGNATURE}
        ok = client.post("/myapp.php?foo=1&bar=2", data=VECTOR_PARAMS, headers=headers)
        assert ok.status_code == 200, ok.text
        assert ok.text == "<Response></Response>"
        wrong_query = client.post("/myapp.php?foo=1&bar=3", data=VECTOR_PARAMS, headers=headers)
        assert wrong_query.status_code == 403
        wrong_value = client.post(
            "/myapp.php?foo=1&bar=2", data={**VECTOR_PARAMS, "Digits": "9"}, headers=headers
        )
        assert wrong_value.status_code == 403
    site.ctx.engine.dispose()


def test_inbound_signed_by_the_sdk_is_accepted(site: Site) -> None:
    response = site.signed_post("/twilio/inbound", INBOUND)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert site.audit("webhook_refused") == []


def test_signature_with_the_port_in_the_url_is_accepted(site: Site) -> None:
    """Twilio may sign the URL with or without the port; the validator tries both."""
    response = site.signed_post(
        "/twilio/inbound", INBOUND, url="http://127.0.0.1:8080/twilio/inbound"
    )
    assert response.status_code == 200


def test_status_callback_signed_by_the_sdk_is_accepted(site: Site) -> None:
    message = site.twilio.messages[0]
    assert message.status_callback and message.status_callback.startswith(PUBLIC)
    path = message.status_callback.removeprefix(PUBLIC)
    params = {"MessageSid": message.sid, "MessageStatus": "sent", "AccountSid": "AC1"}
    response = site.signed_post(path, params, url=message.status_callback)
    assert response.status_code == 204


@pytest.mark.parametrize("path", ["/twilio/inbound", "/twilio/status"])
def test_unsigned_requests_are_refused_and_audited(site: Site, path: str) -> None:
    response = site.client.post(path, data=INBOUND)
    assert response.status_code == 403
    refused = site.audit("webhook_refused")
    assert len(refused) == 1
    assert "no X-Twilio-Signature" in refused[0].detail
    assert site.alert().state == "open"


def test_forged_signature_is_refused(site: Site) -> None:
    forged = RequestValidator("not-the-token").compute_signature(
        PUBLIC + "/twilio/inbound", INBOUND
    )
    response = site.client.post(
        "/twilio/inbound", data=INBOUND, headers={"X-Twilio-Signature": forged}
    )
    assert response.status_code == 403
    assert "signature does not match" in site.audit("webhook_refused")[0].detail


def test_tampered_body_is_refused(site: Site) -> None:
    code = site.alert().ack_code
    signature = RequestValidator(site.token).compute_signature(PUBLIC + "/twilio/inbound", INBOUND)
    response = site.client.post(
        "/twilio/inbound",
        data={**INBOUND, "Body": f"ACK {code}"},
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403
    assert site.alert().state == "open"


def test_request_replayed_to_another_url_is_refused(site: Site) -> None:
    code = site.alert().ack_code
    params = {**INBOUND, "Body": f"ACK {code}"}
    # Signed for the status URL, replayed to the inbound one.
    wrong_path = site.signed_post("/twilio/inbound", params, url=PUBLIC + "/twilio/status")
    assert wrong_path.status_code == 403
    # Signed for another host (another deployment's public URL).
    other_host = site.signed_post(
        "/twilio/inbound", params, url="https://elsewhere.example/twilio/inbound"
    )
    assert other_host.status_code == 403
    # A status callback signed for one message (?m=) replayed for another.
    message = site.twilio.messages[0]
    replay = site.signed_post(
        "/twilio/status?m=someone-elses-token",
        {"MessageSid": message.sid, "MessageStatus": "failed", "ErrorCode": "30003"},
        url=message.status_callback,
    )
    assert replay.status_code == 403
    assert len(site.audit("webhook_refused")) == 3
    assert site.alert().state == "open"
    assert all(row.state != "failed" for row in site.outbox())


def test_no_token_means_the_webhooks_are_off(tmp_path: Path, twilio: FakeTwilio) -> None:
    site = make_site(tmp_path, twilio, with_token=False)
    assert site.web.twilio_auth_token is None
    signature = RequestValidator(twilio.auth_token).compute_signature(
        PUBLIC + "/twilio/inbound", INBOUND
    )
    for path in ("/twilio/inbound", "/twilio/status"):
        response = site.client.post(path, data=INBOUND, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403
        assert response.text == "webhook off"
    refused = site.audit("webhook_refused")
    assert len(refused) == 2
    assert all("webhook off" in row.detail for row in refused)


def _chunks(total: int, size: int = 16 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("path", ["/twilio/inbound", "/twilio/status"])
def test_a_chunked_body_past_the_limit_is_refused_before_it_is_parsed(
    site: Site, path: str
) -> None:
    # No Content-Length to trust: the body streams in chunks, 4 MB of it.
    response = site.client.post(
        path,
        content=_chunks(4 * 1024 * 1024),
        headers={
            "X-Twilio-Signature": "anything",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 413
    assert "body too large" in site.audit("webhook_refused")[0].detail


def test_a_multipart_body_is_refused_not_spooled_to_disk(site: Site) -> None:
    response = site.client.post(
        "/twilio/inbound",
        files={"upload": ("big.bin", b"x" * 1024, "application/octet-stream")},
        headers={"X-Twilio-Signature": "anything"},
    )
    assert response.status_code == 415
    assert site.alert().state == "open"
