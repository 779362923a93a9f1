"""Field types for the config file: durations like ``15m``, times of day like ``07:00``,
E.164 phone numbers, time zones."""

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


def _duration(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except TimeValueError as exc:
            raise ValueError(str(exc)) from None
    if isinstance(value, timedelta):
        return value
    raise ValueError(f'not a duration: {value!r} (write it as a string like "15m")')


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


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration_spec, return_type=str, when_used="json"),
]
TimeOfDay = Annotated[
    time,
    BeforeValidator(_time_of_day),
    PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="json"),
]
ZoneName = Annotated[str, AfterValidator(_zone_name)]
Phone = Annotated[str, AfterValidator(_phone)]
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, AfterValidator(_name)]
