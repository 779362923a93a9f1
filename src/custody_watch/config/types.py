"""Field types for the config file: durations like ``15m``, times of day like ``07:00``,
E.164 phone numbers, time zones, a ``host:port`` to listen on.

Every duration is at most ``MAX_DURATION`` (366 days): nothing custody-watch waits for is
longer, and a threshold of "99999999d" would otherwise overflow the calendar. ``Duration``
is a wait, interval, timeout or repeat and must be more than 0 (a ``repeat_every`` of 0s
sent six messages every tick); ``DurationOrZero`` is for the few where 0 means "at once"
or "none" (rule thresholds such as ``warning_before``, a drop folder's ``settle_time``)."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from custody_watch.times import (
    TimeValueError,
    format_duration_spec,
    parse_duration,
    parse_time_of_day,
    parse_zone,
)

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_DURATION = timedelta(days=366)


def _duration(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except TimeValueError as exc:
            if "too long" in str(exc):  # more days than a timedelta holds
                raise ValueError(f"must be at most 366 days, not {value[:40]!r}") from None
            raise ValueError(str(exc)) from None
    if isinstance(value, timedelta):
        return value
    raise ValueError(f'not a duration: {value!r} (write it as a string like "15m")')


def _at_most_366_days(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must not be negative")
    if value > MAX_DURATION:
        raise ValueError(f"must be at most 366 days, not {format_duration_spec(value)}")
    return value


def _more_than_zero(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be more than 0")
    return value


def _listen(value: str) -> str:
    """``host:port``, the host a name or an address (IPv6 in brackets), the port 0 to
    65535 (0: any free port, which tests use)."""
    host, colon, port = value.strip().rpartition(":")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not bare or not port.isascii() or not port.isdigit():
        raise ValueError(f"not host:port: {value[:40]!r} (write it like 127.0.0.1:8080)")
    if int(port) > 65535:
        raise ValueError(f"port must be 1 to 65535 (0: any free port), not {port[:10]}")
    if any(c.isspace() for c in bare) or (":" in bare and bare == host):
        raise ValueError(f"not host:port: {value[:40]!r} (an IPv6 host goes in brackets)")
    return value


def _time_of_day(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_time_of_day(value)
        except TimeValueError as exc:
            raise ValueError(str(exc)) from None
    if isinstance(value, time):
        return value
    raise ValueError(f'not a time of day: {value!r} (write it as a string like "07:00")')


def _zone_name(value: str) -> str:
    try:
        parse_zone(value)
    except TimeValueError as exc:
        raise ValueError(str(exc)) from None
    return value


def _phone(value: str) -> str:
    if not _E164.fullmatch(value):
        raise ValueError(f"not an E.164 phone number: {value!r} (write it like +447700900001)")
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"not a usable name: {value!r} (letters, digits, '_', '.', '-'; at most 64)"
        )
    return value


DurationOrZero = Annotated[
    timedelta,
    BeforeValidator(_duration),
    AfterValidator(_at_most_366_days),
    PlainSerializer(format_duration_spec, return_type=str, when_used="json"),
]
Duration = Annotated[DurationOrZero, AfterValidator(_more_than_zero)]
TimeOfDay = Annotated[
    time,
    BeforeValidator(_time_of_day),
    PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="json"),
]
ZoneName = Annotated[str, AfterValidator(_zone_name)]
Phone = Annotated[str, AfterValidator(_phone)]
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, AfterValidator(_name)]
Listen = Annotated[str, AfterValidator(_listen)]
