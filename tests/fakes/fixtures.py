"""Pytest fixtures for the fake servers. Each server is started per test (in milliseconds)
so one test's queued faults or received mail never leak into another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.smtp_server import FakeSmtp
from fakes.tls import OpensslMissing, SelfSigned, make_self_signed
from fakes.twilio_api import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    """A plain SMTP server with no login and no TLS; build others with ``FakeSmtp(...)``."""
    with FakeSmtp() as server:
        yield server


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    """A certificate for 127.0.0.1/localhost with contexts to serve and to trust it."""
    try:
        return make_self_signed(tmp_path_factory.mktemp("tls"))
    except OpensslMissing as exc:
        pytest.skip(f"TLS tests need a certificate: {exc}")
