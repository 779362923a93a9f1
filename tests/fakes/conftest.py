"""The fakes' own fixtures, for the fakes' self-tests."""

from fakes.fixtures import fake_smtp, fake_twilio, self_signed

__all__ = ["fake_smtp", "fake_twilio", "self_signed"]
