"""The fake Messages API itself: what other tests rely on beyond sending."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fakes.twilio_api import FakeTwilio


def client_for(twilio: FakeTwilio, token: str | None = None) -> Client:
    client = Client(twilio.account_sid, token or twilio.auth_token)
    client.api.base_url = twilio.url
    return client


def test_a_message_can_be_fetched_with_its_latest_status(fake_twilio: FakeTwilio) -> None:
    client = client_for(fake_twilio)
    created = client.messages.create(to="+447700900001", from_=fake_twilio.from_number, body="hi")
    assert (created.status, created.num_segments, created.direction) == (
        "queued",
        "1",
        "outbound-api",
    )
    fake_twilio.set_status(created.sid, "sent")
    assert client.messages(created.sid).fetch().status == "sent"


def test_it_counts_every_request_and_serves_faults_in_order(fake_twilio: FakeTwilio) -> None:
    client = client_for(fake_twilio)
    fake_twilio.reject_next(21614)
    fake_twilio.fail_next()
    codes = []
    for _ in range(3):
        try:
            client.messages.create(to="+447700900001", from_=fake_twilio.from_number, body="x")
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes == [21614, 20500]
    assert (fake_twilio.request_count, len(fake_twilio.messages)) == (3, 1)


def test_an_unknown_path_is_twilios_404(fake_twilio: FakeTwilio) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{fake_twilio.url}/2010-04-01/Accounts.json", timeout=5)
    assert caught.value.code == 404
