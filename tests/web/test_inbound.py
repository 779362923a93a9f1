"""Inbound SMS: ACK <code> acknowledges and answers TwiML; a retry acts once."""

from __future__ import annotations

from .support import Site

SENDER = "+447700900001"  # insp-a


def sms(sid: str, body: str, sender: str = SENDER) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+447700900000",
        "Body": body,
        "NumMedia": "0",
    }


def test_ack_by_sms_acknowledges_and_answers_twiml(site: Site) -> None:
    code = site.alert().ack_code
    response = site.signed_post("/twilio/inbound", sms("SM" + "1" * 32, f"ACK {code}"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text == (
        f"<Response><Message>custody-watch: alert {code} acknowledged by insp-a."
        "</Message></Response>"
    )
    alert = site.alert()
    assert alert.state == "acknowledged"
    assert alert.acknowledged_by == "insp-a"
    acks = site.audit("acknowledged")
    assert len(acks) == 1 and "via sms" in acks[0].detail


def test_a_retry_with_the_same_message_sid_acts_once(site: Site) -> None:
    code = site.alert().ack_code
    params = sms("SM" + "2" * 32, f"ack {code}")
    first = site.signed_post("/twilio/inbound", params)
    again = site.signed_post("/twilio/inbound", params)
    assert first.status_code == again.status_code == 200
    assert "<Message>" in first.text
    assert again.text == "<Response></Response>"
    assert len(site.audit("acknowledged")) == 1


def test_unknown_sender_gets_an_empty_response(site: Site) -> None:
    code = site.alert().ack_code
    response = site.signed_post(
        "/twilio/inbound", sms("SM" + "3" * 32, f"ACK {code}", sender="+447700900999")
    )
    assert response.text == "<Response></Response>"
    assert site.alert().state == "open"
    assert site.audit("inbound_unknown_sender")


def test_a_wrong_code_is_refused_politely(site: Site) -> None:
    response = site.signed_post("/twilio/inbound", sms("SM" + "4" * 32, "ACK 0000"))
    assert response.status_code == 200
    assert "no live alert has the code 0000" in response.text
    assert site.alert().state == "open"


def test_replies_are_xml_escaped(site: Site) -> None:
    response = site.signed_post("/twilio/inbound", sms("SM" + "5" * 32, "<b>what & why</b>"))
    assert response.status_code == 200
    assert response.text.startswith("<Response><Message>")
    assert "<b>" not in response.text


def test_missing_message_sid_is_a_bad_request(site: Site) -> None:
    params = sms("", "ACK 1234")
    del params["MessageSid"], params["SmsSid"]
    response = site.signed_post("/twilio/inbound", params)
    assert response.status_code == 400
