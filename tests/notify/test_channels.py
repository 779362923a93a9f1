"""Channels from the config and the environment; missing credentials name the variable."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest

from custody_watch.config import Settings
from custody_watch.errors import ConfigError
from custody_watch.notify.base import Message
from custody_watch.notify.channels import build_channels
from custody_watch.notify.console import Console
from custody_watch.notify.smtp_email import SmtpEmail
from custody_watch.notify.twilio_sms import TwilioSms
from fakes.smtp_server import FakeSmtp
from fakes.twilio_api import FakeTwilio

EXAMPLE = Path(__file__).parents[3] / "shared/spec/config-example.toml"
TOKEN = {"CUSTODY_WATCH_TWILIO_AUTH_TOKEN": "t0ken"}
SMS = {
    "kind": "twilio",
    "account_sid": "AC" + "0" * 32,
    "from_number": "+447700900000",
}
EMAIL = {"kind": "smtp", "host": "smtp.example.police.uk", "from_address": "cw@example.police.uk"}


def settings(**channels: dict[str, Any]) -> Settings:
    return Settings.model_validate({"channels": channels})


def test_it_builds_the_shared_example_config() -> None:
    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example config is not at {EXAMPLE}")
    example = Settings.model_validate(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    channels = build_channels(example, TOKEN)
    assert {name: type(channel) for name, channel in channels.items()} == {
        "console": Console,
        "sms": TwilioSms,
        "email": SmtpEmail,
    }
    assert {name: channel.name for name, channel in channels.items()} == {
        "console": "console",
        "sms": "sms",
        "email": "email",
    }
    assert [c.address_kind for c in channels.values()] == ["any", "phone", "email"]


def test_the_default_config_is_one_console_channel() -> None:
    stream = io.StringIO()
    channels = build_channels(Settings(), {}, stream=stream)
    assert list(channels) == ["console"]
    channels["console"].send(Message(to="anyone", text="hello"))
    assert "hello" in stream.getvalue()


def test_a_twilio_channel_without_its_token_is_an_error_naming_both() -> None:
    with pytest.raises(ConfigError) as caught:
        build_channels(settings(sms=SMS), {})
    assert str(caught.value) == "channels.sms: CUSTODY_WATCH_TWILIO_AUTH_TOKEN is not set"


def test_without_a_token_it_can_print_the_sms_instead_and_says_so() -> None:
    stream = io.StringIO()
    channels = build_channels(settings(sms=SMS), {}, stream=stream, allow_console_fallback=True)
    sms = channels["sms"]
    assert isinstance(sms, Console)
    # Still a phone channel, so dispatch addresses it exactly as it would the real one.
    assert (sms.name, sms.address_kind) == ("sms", "phone")
    sms.send(Message(to="+447700900001", text="Child held 23h"))
    assert "CUSTODY_WATCH_TWILIO_AUTH_TOKEN is not set: this SMS was printed, not sent" in (
        stream.getvalue()
    )


def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("t0ken\n", encoding="utf-8")
    env = {"CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE": str(path)}
    assert isinstance(build_channels(settings(sms=SMS), env)["sms"], TwilioSms)


def test_an_unreadable_secret_file_names_the_channel_and_variable(tmp_path: Path) -> None:
    env = {"CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE": str(tmp_path / "absent")}
    # The fallback is for a token nobody set, not for one set wrongly.
    with pytest.raises(
        ConfigError, match=r"^channels\.sms: CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE: "
    ):
        build_channels(settings(sms=SMS), env, allow_console_fallback=True)


@pytest.mark.parametrize(
    "url", ["ftp://api.example", "api.twilio.com", "http://127.0.0.1:1/2010-04-01"]
)
def test_an_unusable_api_base_url_names_the_key(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^channels\.sms\.api_base_url: "):
        build_channels(settings(sms={**SMS, "api_base_url": url}), TOKEN)


def test_smtp_needs_no_credentials() -> None:
    assert isinstance(build_channels(settings(email=EMAIL), {})["email"], SmtpEmail)


USER, PASSWORD = "CUSTODY_WATCH_SMTP_USERNAME", "CUSTODY_WATCH_SMTP_PASSWORD"


@pytest.mark.parametrize(("given", "missing"), [(USER, PASSWORD), (PASSWORD, USER)])
def test_half_an_smtp_login_is_an_error(given: str, missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_channels(settings(email=EMAIL), {given: "x"})
    assert str(caught.value) == f"channels.email: {given} is set but {missing} is not"


def test_built_channels_deliver_through_their_servers(fake_twilio: FakeTwilio) -> None:
    with FakeSmtp(credentials=("cw", "pw")) as smtp:
        config = settings(sms=fake_twilio.config(), email=smtp.config())
        channels = build_channels(config, fake_twilio.env() | smtp.env())
        channels["sms"].send(Message(to="+447700900001", text="sms"))
        channels["email"].send(Message(to="insp.a@example.police.uk", text="email"))
        assert [m.body for m in fake_twilio.messages] == ["sms"]
        assert [m.login for m in smtp.mails] == ["cw"]
