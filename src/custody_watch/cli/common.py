"""Helpers shared by commands: reading times, opening the store, printing JSON."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import typer
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.clock import Clock, StartedClock, SystemClock
from custody_watch.config import Settings
from custody_watch.errors import InputError
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.times import TimeValueError, parse_instant, utc_z


def instant(option: str, text: str) -> datetime:
    try:
        return parse_instant(text)
    except TimeValueError as exc:
        raise InputError(f"{option}: {exc}") from None


# A drill runs the clock faster, but not so fast that a day passes between two ticks: past
# this, escalation waits shorter than a tick would all fall due at once.
MAX_SPEED = 10_000.0


def checked_speed(speed: float) -> float:
    """``--speed`` as a usable factor: NaN, infinities, zero, negatives and absurd values are
    refused here, not found later as an OverflowError deep inside the clock."""
    if not math.isfinite(speed) or speed <= 0:
        raise InputError(f"--speed: must be a number more than 0, not {speed!r}")
    if speed > MAX_SPEED:
        raise InputError(f"--speed: must be at most {MAX_SPEED:g}, not {speed:g}")
    return speed


def clock_for(now: str | None, speed: float = 1.0) -> Clock:
    speed = checked_speed(speed)
    if now is None and speed == 1.0:
        return SystemClock()
    start = instant("--now", now) if now is not None else SystemClock().now()
    return StartedClock(start, speed)


def open_store(settings: Settings) -> sessionmaker[Session]:
    """The store, migrated to the current schema (safe to run alongside a daemon)."""
    engine = make_engine(settings.database.url)
    upgrade(engine)
    return make_sessionmaker(engine)


def print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=_default))


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return utc_z(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
