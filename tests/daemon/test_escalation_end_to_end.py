"""A whole escalation through real parts: a drop folder, ``run --once --now`` in steps, the
real twilio SDK against a local Twilio-like server, email to a real aiosmtpd server, and an
acknowledgement by SMS reply."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custody_watch.alerts.inbound import handle_inbound_sms
from custody_watch.clock import FixedClock
from custody_watch.config import read_settings
from custody_watch.daemon.compose import build_context
from custody_watch.times import parse_instant
from fakes.smtp_server import FakeSmtp
from fakes.twilio_api import FakeTwilio

from .support import Daemon

CONFIG = """
[database]
url = "{database}"

[web]
public_base_url = "http://127.0.0.1:8080"

[[sources]]
name = "suite-a"
kind = "csv_folder"
path = "{inbox}"

[channels.sms]
kind = "twilio"
account_sid = "{account_sid}"
from_number = "{from_number}"
api_base_url = "{twilio_url}"
timeout = "5s"

[channels.email]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
starttls = false
from_address = "custody-watch@example.police.uk"

[[people]]
id = "insp-a"
name = "Insp. Alpha Example"
phone = "+447700900001"
email = "insp.a@example.police.uk"

[[people]]
id = "supt-b"
name = "Supt. Bravo Example"
phone = "+447700900002"
email = "supt.b@example.police.uk"

[[people]]
id = "ops"
name = "Force control room"
email = "control.room@example.police.uk"

[[rota]]
role = "duty_inspector"
person = "insp-a"

[[rota]]
role = "superintendent"
person = "supt-b"

[[rota]]
role = "operations"
person = "ops"

[escalation.warning]
levels = [{{ notify = ["duty_inspector"], channels = ["sms", "email"] }}]

[escalation.high]
levels = [
  {{ notify = ["duty_inspector"], channels = ["sms", "email"], wait = "15m" }},
  {{ notify = ["superintendent"], channels = ["sms", "email"], wait = "30m" }},
]
repeat_every = "30m"

[escalation.critical]
levels = [
  {{ notify = ["duty_inspector"], channels = ["sms", "email"], wait = "10m" }},
  {{ notify = ["duty_inspector", "superintendent"], channels = ["sms", "email"], wait = "15m" }},
]
repeat_every = "15m"
"""

# A 15-year-old (pseudonym P-77, born 1 March 2011) arrives at 09:00 BST with no appropriate
# adult requested: warning at 10:00 BST, high at 12:00 BST (11:00Z).
CHILD = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-77\n"
)


@pytest.fixture
def daemon(
    make_daemon: Callable[..., Daemon],
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> Daemon:
    made = make_daemon(
        config_text=CONFIG,
        account_sid=fake_twilio.account_sid,
        from_number=fake_twilio.from_number,
        twilio_url=fake_twilio.url,
        smtp_port=fake_smtp.port,
    )
    monkeypatch.setenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    made.drop("day.csv", CHILD)
    return made


def sms_to(fake: FakeTwilio, number: str) -> list[str]:
    return [m.body for m in fake.messages if m.to == number]


def mail_to(fake: FakeSmtp, address: str) -> list[str]:
    return [str(m.message["Subject"]) for m in fake.mails if address in m.rcpt_tos]


def reply_by_sms(daemon: Daemon, sender: str, body: str, at: str) -> str | None:
    """What the inbound webhook does once the signature is checked."""
    ctx = build_context(read_settings(daemon.config), FixedClock(parse_instant(at)))
    with ctx.sessions.begin() as session:
        result = handle_inbound_sms(
            session,
            message_sid=f"SM{abs(hash((sender, body, at))):032x}"[:34],
            from_number=sender,
            body=body,
            deps=ctx.alerts,
            now=parse_instant(at),
        )
    ctx.engine.dispose()
    return result.reply


def test_the_duty_inspector_is_paged_by_sms_and_email_without_naming_the_child(
    daemon: Daemon, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp
) -> None:
    daemon.run_once("2026-06-10T11:00:00Z")

    [sms] = sms_to(fake_twilio, "+447700900001")
    [subject] = mail_to(fake_smtp, "insp.a@example.police.uk")
    [alert] = daemon.alerts()
    assert f"ACK {alert['ack_code']}" in sms
    assert "C-1" in sms and "age 15" in sms
    assert "P-77" not in sms and "2011" not in sms and "Alpha" not in sms
    assert "HIGH" in subject and alert["ack_code"] in subject
    [sent] = fake_twilio.messages
    assert sent.status_callback is not None
    assert sent.status_callback.startswith("http://127.0.0.1:8080/twilio/status?m=")


def test_the_ladder_climbs_then_an_sms_reply_stops_it_and_everyone_hears(
    daemon: Daemon, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp
) -> None:
    daemon.run_once("2026-06-10T11:00:00Z")
    daemon.run_once("2026-06-10T11:14:00Z")
    assert sms_to(fake_twilio, "+447700900002") == []
    daemon.run_once("2026-06-10T11:15:00Z")  # level 1's wait is over
    assert len(sms_to(fake_twilio, "+447700900002")) == 1
    [alert] = daemon.alerts()

    reply = reply_by_sms(
        daemon, "+447700900002", f"ack {alert['ack_code']}", "2026-06-10T11:20:00Z"
    )
    daemon.run_once("2026-06-10T11:21:00Z")

    assert reply is not None and "acknowledged" in reply
    [acked] = daemon.alerts()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "supt-b"
    assert any("acknowledged by supt-b" in body for body in sms_to(fake_twilio, "+447700900001"))
    assert any("acknowledged" in s for s in mail_to(fake_smtp, "insp.a@example.police.uk"))
    # No more pages after the acknowledgement, until it times out two hours later.
    count = len(fake_twilio.messages)
    daemon.run_once("2026-06-10T12:30:00Z")
    assert len(fake_twilio.messages) == count
    daemon.run_once("2026-06-10T13:21:00Z")
    assert sum("Reply ACK" in b for b in sms_to(fake_twilio, "+447700900001")) == 2


def test_a_stranger_texting_an_ack_code_changes_nothing(daemon: Daemon) -> None:
    daemon.run_once("2026-06-10T11:00:00Z")
    [alert] = daemon.alerts()

    reply = reply_by_sms(
        daemon, "+447700900999", f"ACK {alert['ack_code']}", "2026-06-10T11:05:00Z"
    )

    assert reply is None
    assert daemon.alerts()[0]["state"] == "open"
    events = [e["event"] for e in daemon.json("audit")["events"]]
    assert "inbound_unknown_sender" in events


def test_an_inspector_texting_stop_raises_an_operations_alert(
    daemon: Daemon, fake_smtp: FakeSmtp
) -> None:
    daemon.run_once("2026-06-10T11:00:00Z")
    reply_by_sms(daemon, "+447700900001", "STOP", "2026-06-10T11:05:00Z")
    daemon.run_once("2026-06-10T11:06:00Z")

    system = [a for a in daemon.alerts() if a["custody_ref"] is None]
    assert [f["rule"] for a in system for f in a["findings"]] == ["opted_out"]
    assert mail_to(fake_smtp, "control.room@example.police.uk")


def test_twilio_down_for_a_while_loses_nothing_and_sends_each_message_once(
    daemon: Daemon, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp
) -> None:
    fake_twilio.fail_next(times=3, status=500)
    daemon.run_once("2026-06-10T11:00:00Z")
    assert fake_twilio.messages == []
    assert mail_to(fake_smtp, "insp.a@example.police.uk")  # email went regardless

    for minute in ("01", "03", "06", "10"):  # retries with backoff while Twilio recovers
        daemon.run_once(f"2026-06-10T11:{minute}:00Z")

    assert len(sms_to(fake_twilio, "+447700900001")) == 1
    events = [e["event"] for e in daemon.json("audit")["events"]]
    assert events.count("send_retry") >= 1


def test_a_wrong_number_falls_back_to_email_and_tells_operations(
    daemon: Daemon, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp
) -> None:
    fake_twilio.reject_next(21211)
    daemon.run_once("2026-06-10T11:00:00Z")
    daemon.run_once("2026-06-10T11:01:00Z")

    assert sms_to(fake_twilio, "+447700900001") == []
    assert mail_to(fake_smtp, "insp.a@example.police.uk")
    ops = [m for m in fake_smtp.mails if "control.room@example.police.uk" in m.rcpt_tos]
    assert ops and "sms" in str(ops[0].message["Subject"])
    # The inspector was reached by email: no delivery_failed escalation.
    assert all(a["custody_ref"] is not None for a in daemon.alerts())


def test_a_resolved_mail_is_not_flagged_with_the_severity_it_had(
    daemon: Daemon, fake_smtp: FakeSmtp
) -> None:
    daemon.run_once("2026-06-10T11:00:00Z")
    [alert] = daemon.alerts()
    daemon.drop(
        "released.csv",
        "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,"
        "2026-06-10T12:30:00+01:00,2026-06-10T12:30:00+01:00,P-77\n",
    )
    daemon.run_once("2026-06-10T11:40:00Z")

    [opened, resolved] = mail_to(fake_smtp, "insp.a@example.police.uk")
    assert opened.startswith("[HIGH]")
    # Mail rules that page on "[CRITICAL]" or "[HIGH]" must not page again for the all-clear.
    assert resolved.startswith("[RESOLVED] suite-a C-1: alert ")
    assert resolved.endswith(f"{alert['ack_code']} resolved")
