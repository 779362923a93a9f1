"""Helpers shared by commands: reading times, opening the store, printing JSON."""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.clock import Clock, StartedClock, SystemClock
from custody_watch.config import Settings
from custody_watch.errors import InputError
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AuditRow
from custody_watch.times import TimeValueError, parse_instant, utc_z

# Every time option's help ends with this, so nobody has to guess the format.
TIME_HELP = "TIME is ISO 8601 with an offset, e.g. 2026-06-10T21:30:00Z or 2026-06-10T22:30+01:00."
# A store whose latest event is this far from the real clock holds a replay or a drill.
REPLAY_GAP = timedelta(hours=1)


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


def stored_until(session: Session) -> datetime | None:
    """The latest instant the store has recorded anything at (its audit log): where the
    clock of whatever wrote it (a replay, a drill at --speed) had got to."""
    return session.scalar(select(func.max(AuditRow.at)))


def replay_instant(session: Session, real_now: datetime) -> datetime | None:
    """The store's own time when its data are a replay or a drill (its latest event is more
    than ``REPLAY_GAP`` from the real clock), else None. An acknowledgement stamped with
    today's date onto a replay from June would last, in the replay, until December."""
    latest = stored_until(session)
    if latest is None or abs(latest - real_now) <= REPLAY_GAP:
        return None
    return latest


def open_store(settings: Settings) -> sessionmaker[Session]:
    """The store, migrated to the current schema (safe to run alongside a daemon)."""
    engine = make_engine(settings.database.url)
    upgrade(engine)
    return make_sessionmaker(engine)


def print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=_default))


def print_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Rows as CSV on standard output (the stdlib's dialect: quoted where needed, CRLF),
    times as UTC with Z like the JSON, None as an empty cell."""
    writer = csv.writer(sys.stdout)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return utc_z(value)
    return value


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return utc_z(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
