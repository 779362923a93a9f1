"""The Twilio channel, through the real twilio SDK over HTTP to a fake Messages API."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

from custody_watch.config.model import TwilioChannel
from custody_watch.notify.base import DeliveryError, Message, Receipt
from custody_watch.notify.twilio_sms import TwilioSms, parse_retry_after
from fakes.twilio_api import FakeTwilio

TO = "+447700900001"


def make_sms(twilio: FakeTwilio, token: str | None = None, **config: Any) -> TwilioSms:
    settings = TwilioChannel.model_validate(twilio.config(**config))
    return TwilioSms("sms", settings, twilio.auth_token if token is None else token)


def refusal(sms: TwilioSms, to: str = TO) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        sms.send(Message(to=to, text="Custody alert: ack 4821"))
    return caught.value


def test_it_sends_and_returns_twilios_sid_and_status(fake_twilio: FakeTwilio) -> None:
    receipt = make_sms(fake_twilio).send(Message(to=TO, text="Child held 23h: reply 4821"))
    [sent] = fake_twilio.messages
    assert receipt == Receipt(provider_id=sent.sid, status="queued")
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.to, sent.from_, sent.body) == (
        TO,
        fake_twilio.from_number,
        "Child held 23h: reply 4821",
    )
    assert sent.status_callback is None


def test_it_passes_the_status_callback_url_through(fake_twilio: FakeTwilio) -> None:
    callback = "https://cw.example.police.uk/twilio/status?m=abc123"
    make_sms(fake_twilio).send(Message(to=TO, text="hi", status_callback=callback))
    assert fake_twilio.messages[0].status_callback == callback


def test_a_wrong_auth_token_is_permanent(fake_twilio: FakeTwilio) -> None:
    error = refusal(make_sms(fake_twilio, token="not-the-token"))
    assert (error.permanent, error.code) == (True, "20003")
    assert "CUSTODY_WATCH_TWILIO_AUTH_TOKEN" in str(error)
    assert fake_twilio.messages == []


def test_an_invalid_number_is_permanent_with_twilios_code(fake_twilio: FakeTwilio) -> None:
    error = refusal(make_sms(fake_twilio), to="07700 900001")
    assert (error.permanent, error.code, error.retry_after) == (True, "21211", None)
    assert str(error) == (
        "sms: Twilio refused the SMS to 07700 900001: the 'To' number is not a valid phone"
        " number (code 21211, HTTP 400)"
    )


@pytest.mark.parametrize("code", [21610, 21614, 21608])
def test_a_recipient_twilio_will_not_text_is_permanent(fake_twilio: FakeTwilio, code: int) -> None:
    fake_twilio.reject_next(code)
    error = refusal(make_sms(fake_twilio))
    assert (error.permanent, error.code) == (True, str(code))


def test_rate_limiting_is_transient_with_twilios_retry_after(fake_twilio: FakeTwilio) -> None:
    fake_twilio.rate_limit_next(retry_after=7)
    sms = make_sms(fake_twilio)
    error = refusal(sms)
    assert (error.permanent, error.code, error.retry_after) == (False, "20429", 7.0)
    # Nothing was queued, and the next attempt goes through.
    assert sms.send(Message(to=TO, text="again")).status == "queued"
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_transient(fake_twilio: FakeTwilio, status: int) -> None:
    fake_twilio.fail_next(status=status)
    error = refusal(make_sms(fake_twilio))
    assert (error.permanent, error.code) == (False, str(20000 + status))
    assert error.retry_after is None


def test_no_answer_within_the_timeout_is_transient(fake_twilio: FakeTwilio) -> None:
    fake_twilio.hang_next(seconds=3)
    sms = make_sms(fake_twilio, timeout="1s")
    started = time.monotonic()
    error = refusal(sms)
    assert error.permanent is False
    assert "did not answer in time" in str(error)
    assert 0.9 < time.monotonic() - started < 2.5


def test_a_lost_answer_is_transient_though_twilio_may_have_queued_it(
    fake_twilio: FakeTwilio,
) -> None:
    # Retrying may then send the SMS twice: a duplicate is preferred to a missed alert.
    fake_twilio.hang_next(seconds=1.3, then_accept=True)
    assert refusal(make_sms(fake_twilio, timeout="1s")).permanent is False
    deadline = time.monotonic() + 3
    while not fake_twilio.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_twilio.messages) == 1


def test_an_unreachable_api_is_transient(fake_twilio: FakeTwilio) -> None:
    sms = make_sms(fake_twilio)
    fake_twilio.close()
    error = refusal(sms)
    assert error.permanent is False
    assert "cannot reach Twilio" in str(error)


def test_twilio_environment_variables_cannot_redirect_it(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK would otherwise rewrite the host to api.<edge>.<region>.twilio.com.
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    make_sms(fake_twilio).send(Message(to=TO, text="hi"))
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize(
    ("header", "seconds"), [(None, None), ("3", 3.0), ("0.5", 0.5), ("-1", None), ("soon", None)]
)
def test_retry_after_is_read_as_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = {k: v[-1] for k, v in parse_qs(body).items()}
        self.received.append((self.path, form, self.headers.get("X-Twilio-Signature", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, str], str]]]]:
    received: list[tuple[str, dict[str, str], str]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_the_fake_reports_delivery_signed_as_twilio_does(
    fake_twilio: FakeTwilio, receiver: tuple[str, list[tuple[str, dict[str, str], str]]]
) -> None:
    base, received = receiver
    callback = f"{base}/twilio/status?m=abc123"
    receipt = make_sms(fake_twilio).send(Message(to=TO, text="hi", status_callback=callback))
    assert receipt.provider_id is not None

    assert (
        fake_twilio.send_status_callback(receipt.provider_id, "undelivered", error_code=30003)
        == 204
    )
    [(path, form, signature)] = received
    assert path == "/twilio/status?m=abc123"
    assert form["MessageSid"] == receipt.provider_id
    assert (form["MessageStatus"], form["ErrorCode"], form["To"]) == ("undelivered", "30003", TO)
    assert (form["AccountSid"], form["From"]) == (fake_twilio.account_sid, fake_twilio.from_number)
    assert len(form["RawDlrDoneDate"]) == 10
    assert RequestValidator(fake_twilio.auth_token).validate(callback, form, signature)
    assert not RequestValidator("another-token").validate(callback, form, signature)
    assert fake_twilio.messages[0].status == "undelivered"
