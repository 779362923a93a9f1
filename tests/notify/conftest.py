"""The fake Twilio and SMTP servers' fixtures, for the channel tests."""

from fakes.fixtures import fake_smtp, fake_twilio, self_signed

__all__ = ["fake_smtp", "fake_twilio", "self_signed"]
