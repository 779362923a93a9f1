"""The composition root's own facts."""

from __future__ import annotations

from custody_watch.daemon.compose import ADDRESS_KINDS
from custody_watch.notify.console import Console
from custody_watch.notify.smtp_email import SmtpEmail
from custody_watch.notify.twilio_sms import TwilioSms


def test_the_address_kinds_read_without_loading_channels_are_the_channels_own() -> None:
    """``ADDRESS_KINDS`` lets read-only commands start without importing the Twilio SDK;
    it must say what each channel class says, or pages would go to the wrong address."""
    console = Console("console")
    assert {
        "twilio": TwilioSms.address_kind,
        "smtp": SmtpEmail.address_kind,
        "console": console.address_kind,
    } == ADDRESS_KINDS
