"""Reading and writing instants and durations.

Instants are stored and compared as aware UTC datetimes. Two traps this module exists to
avoid: Python subtracts two aware datetimes that share a tzinfo as *wall* times (so a
duration across a clock change comes out an hour wrong), and a naive wall-clock time in
Europe/London may not exist (March) or may exist twice (October)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LONDON = ZoneInfo("Europe/London")

FIRST_YEAR, LAST_YEAR = 1800, 9000
# Instants as whole microseconds since 1970: what evaluate's worker processes send (an int
# pickles many times cheaper than a datetime), compared exactly whatever the offset was.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class TimeValueError(ValueError):
    """A time that cannot be read; the message is for people and names no field."""


def parse_instant(text: str, naive_zone: tzinfo | None = None) -> datetime:
    """Read an ISO 8601 / RFC 3339 time and return it as aware UTC.

    A time without an offset is an error unless ``naive_zone`` is given; then a wall-clock
    time that the zone skips or repeats is an error that says so."""
    raw = text.strip()
    # RFC 3339 allows lower-case separators; fromisoformat does not.
    candidate = raw.upper() if "t" in raw or "z" in raw else raw
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise TimeValueError(f"not a valid time: {raw!r}") from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        # Far outside any custody record, and near enough to datetime's limits that adding a
        # 96-hour PACE limit would overflow.
        raise TimeValueError(f"{raw!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    if naive_zone is None:
        raise TimeValueError(f"no UTC offset in {raw!r}")
    return localize(parsed, naive_zone)


def localize(wall: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a naive wall-clock time, refusing skipped and repeated times."""
    early = wall.replace(tzinfo=zone, fold=0)
    late = wall.replace(tzinfo=zone, fold=1)
    as_utc = early.astimezone(UTC)
    # In a gap fold=0 and fold=1 differ too, so existence is checked first: a skipped time
    # does not come back unchanged from UTC.
    if as_utc.astimezone(zone).replace(tzinfo=None) != wall:
        raise TimeValueError(
            f"{wall.isoformat()} does not exist in {zone} (the clocks went forward); "
            "give a UTC offset"
        )
    if early.utcoffset() != late.utcoffset():
        raise TimeValueError(
            f"{wall.isoformat()} is ambiguous in {zone} (the clocks went back and it "
            "happened twice); give a UTC offset"
        )
    return as_utc


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeValueError(f"unknown time zone {name!r}") from None


def parse_duration(text: str) -> timedelta:
    """Read durations written like ``90s``, ``15m``, ``2h``, ``1d`` or ``1h30m``."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise TimeValueError(f"not a duration: {text!r} (write it like 90s, 15m, 2h or 1d)")
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    try:
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise TimeValueError(f"duration too long: {text!r}") from None


def format_duration_spec(value: timedelta) -> str:
    """The inverse of ``parse_duration`` (for showing config)."""
    total = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_time_of_day(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise TimeValueError(f"not a time of day: {text!r} (write it like 07:00)")
    return time(int(match[1]), int(match[2]))


def utc_z(at: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the contract's output form."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_z_or_none(at: datetime | None) -> str | None:
    return None if at is None else utc_z(at)


def utc_iso(at: datetime) -> str:
    """Full-precision UTC ISO form for storage (keeps microseconds, unlike ``utc_z``)."""
    text = at.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def utc_text(at: datetime) -> str:
    """An aware instant as naive-UTC text with microseconds, "2026-06-10 11:00:00.000000".

    It sorts as time does, it is the form the store keeps on SQLite, and prepared rows carry
    instants in it between processes (text pickles many times cheaper than a datetime)."""
    if at.tzinfo is not UTC:  # what every parsed time already is, so checked cheaply
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at!r} is not an instant")
        at = at.astimezone(UTC)
    return at.isoformat(" ", "microseconds")[:26]  # less "+00:00"


def from_utc_text(text: str) -> datetime:
    """The instant ``utc_text`` wrote, aware UTC again."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def to_micros(at: datetime) -> int:
    """``at`` as microseconds since 1970 (``EPOCH``)."""
    return (at - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC instant ``micros`` microseconds after 1970."""
    return EPOCH + micros * MICROSECOND


def local_date(at: datetime, zone: tzinfo = LONDON) -> date:
    return at.astimezone(zone).date()


# One way to show times and durations to people, everywhere (pages, CLI, messages, digest):
# an inspector reading "Thu 3 Dec 21:30 GMT" on the board, in an SMS and in the digest should
# never have to translate between styles. The zone abbreviation stays on every time because
# on the last Sunday of October 01:30 happens twice, once BST and once GMT.


def format_local(at: datetime, zone: tzinfo = LONDON, *, with_date: bool = True) -> str:
    """A local time for people: ``Thu 3 Dec 21:30 GMT`` (``21:30 GMT`` without the date).

    At the very ends of the calendar the local time may not exist (year 0 or 10000): the UTC
    time is shown instead of failing."""
    try:
        local = at.astimezone(zone)
    except OverflowError:
        local = at.astimezone(UTC)
    clock = f"{local:%H:%M} {local.tzname()}"
    return f"{local:%a} {local.day} {local:%b} {clock}" if with_date else clock


def format_duration(value: timedelta) -> str:
    """``23h 10m``, ``2d 4h``, ``45m``, ``0m``: how long, for people, whole minutes, never
    signed (the caller says "ago" or "in", see ``format_relative``)."""
    minutes = int(abs(value).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def format_relative(at: datetime, now: datetime) -> str:
    """``in 20m``, ``2h 10m ago``, or ``now`` when less than a minute away either way.

    Elapsed time, worked out in UTC (aware datetimes of one zone subtract as wall times)."""
    delta = at.astimezone(UTC) - now.astimezone(UTC)
    if abs(delta) < timedelta(minutes=1):
        return "now"
    if delta > timedelta(0):
        return f"in {format_duration(delta)}"
    return f"{format_duration(delta)} ago"
