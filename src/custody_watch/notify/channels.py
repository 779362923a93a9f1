"""Channels from the configuration and the environment: the one place that names the concrete
channel classes and reads their secrets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from custody_watch.config import model
from custody_watch.config.model import Settings
from custody_watch.config.secrets import SMTP_PASSWORD, SMTP_USERNAME, TWILIO_AUTH_TOKEN, secret
from custody_watch.errors import ConfigError
from custody_watch.notify.base import Channel
from custody_watch.notify.console import Console
from custody_watch.notify.smtp_email import SmtpEmail
from custody_watch.notify.twilio_sms import TwilioSms, check_api_base_url


@dataclass(frozen=True, slots=True)
class _Needs:
    env: Mapping[str, str]
    stream: TextIO | None
    allow_console_fallback: bool


def build_channels(
    settings: Settings,
    env: Mapping[str, str],
    *,
    stream: TextIO | None = None,
    allow_console_fallback: bool = False,
) -> dict[str, Channel]:
    """One channel per ``[channels.NAME]``, keyed by NAME.

    A Twilio channel needs its auth token. Without one this raises ``ConfigError``, unless
    ``allow_console_fallback`` is set: then the channel prints to ``stream`` instead, saying
    so in every message, which is how a fresh install runs before it has credentials."""
    needs = _Needs(env, stream, allow_console_fallback)
    return {
        name: _BUILDERS[config.kind](name, config, needs)
        for name, config in settings.channels.items()
    }


def _console(name: str, config: model.ConsoleChannel, needs: _Needs) -> Channel:
    return Console(name, needs.stream)


def _twilio(name: str, config: model.TwilioChannel, needs: _Needs) -> Channel:
    problem = check_api_base_url(config.api_base_url)
    if problem:
        raise ConfigError(f"channels.{name}.api_base_url: {problem}")
    token = _secret(name, TWILIO_AUTH_TOKEN, needs.env)
    if token is not None:
        return TwilioSms(name, config, token)
    if not needs.allow_console_fallback:
        raise ConfigError(f"channels.{name}: {TWILIO_AUTH_TOKEN} is not set")
    note = f"{TWILIO_AUTH_TOKEN} is not set: this SMS was printed, not sent"
    return Console(name, needs.stream, address_kind=TwilioSms.address_kind, note=note)


def _smtp(name: str, config: model.SmtpChannel, needs: _Needs) -> Channel:
    # Relays inside a force network often accept mail without a login, so both names
    # unset is fine; one without the other is a mistake.
    username = _secret(name, SMTP_USERNAME, needs.env)
    password = _secret(name, SMTP_PASSWORD, needs.env)
    if (username is None) != (password is None):
        given, missing = (
            (SMTP_USERNAME, SMTP_PASSWORD) if password is None else (SMTP_PASSWORD, SMTP_USERNAME)
        )
        raise ConfigError(f"channels.{name}: {given} is set but {missing} is not")
    return SmtpEmail(name, config, username=username, password=password)


def _secret(channel: str, variable: str, env: Mapping[str, str]) -> str | None:
    try:
        return secret(variable, env)
    except ConfigError as exc:
        raise ConfigError(f"channels.{channel}: {exc}") from None


# Each builder takes its own settings class; the config model's discriminator guarantees
# that ``kind`` and the class agree.
_BUILDERS: dict[str, Callable[[str, Any, _Needs], Channel]] = {
    "console": _console,
    "twilio": _twilio,
    "smtp": _smtp,
}
