"""Is a feed fresh? One answer for the daemon's ``feed_stale``, the board's banner, the
Sources page, ``/healthz``, ``/metrics`` and ``custody-watch sources``.

Each of them used to work it out on its own, and they disagreed: the pages ignored
``expect_data_within``, so a drop folder that answered every poll but had held nothing new
for 174 days showed "ok" on the board while the daemon had paged about it. A monitor that
goes silent must never look like a quiet night, so there is one function, pure (the state
and ``now`` are passed in), and every caller shows what it says.

RULES.md: ``feed_stale`` is "delivered nothing new and answered no successful poll for
``stale_after``". A source may also set ``expect_data_within``: no new records for that long
is stale however well it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from custody_watch.times import format_duration, format_local


class PolledTimes(Protocol):
    """What the store keeps about a source's polls (``SourceStateRow`` has these)."""

    @property
    def first_poll_at(self) -> datetime | None: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def last_data_at(self) -> datetime | None: ...


class FreshnessSettings(Protocol):
    @property
    def stale_after(self) -> timedelta: ...
    @property
    def expect_data_within(self) -> timedelta | None: ...


class Status(StrEnum):
    FRESH = "ok"
    STALE = "stale"
    # Never polled: the daemon has not reached this source yet (a fresh install, or a
    # source just added). Nothing to judge, so not stale; /healthz still says so.
    NEVER_POLLED = "never polled"


@dataclass(frozen=True, slots=True)
class Freshness:
    status: Status
    # The instant the silence began: the last sign of life when stale for ``stale_after``,
    # the last new record when stale for ``expect_data_within``; None when never polled.
    since: datetime | None
    # The last successful poll or new record, whichever is later (what "lag" is measured
    # from); None when the source has never been read successfully.
    last_heard: datetime | None
    reason: str  # for people: why stale, or why fresh

    @property
    def stale(self) -> bool:
        return self.status is Status.STALE

    def lag(self, now: datetime) -> timedelta | None:
        return None if self.last_heard is None else max(timedelta(0), now - self.last_heard)


def freshness(state: PolledTimes | None, settings: FreshnessSettings, now: datetime) -> Freshness:
    """Fresh or stale as of ``now``, since when, and why."""
    if state is None:
        return Freshness(Status.NEVER_POLLED, None, None, "never polled")
    heard = [t for t in (state.last_success_at, state.last_data_at) if t is not None]
    last_heard = max(heard) if heard else None
    # Polled but never answered: the silence began at the first poll.
    silent_since = last_heard if last_heard is not None else state.first_poll_at
    if silent_since is None:
        return Freshness(Status.NEVER_POLLED, None, None, "never polled")
    if now - silent_since >= settings.stale_after:
        what = "nothing new and no successful poll" if last_heard else "no successful poll"
        return Freshness(
            Status.STALE,
            silent_since,
            last_heard,
            f"{what} for {format_duration(now - silent_since)}, since {format_local(silent_since)}",
        )
    no_data_since = state.last_data_at or state.first_poll_at
    expect = settings.expect_data_within
    if expect is not None and no_data_since is not None and now - no_data_since >= expect:
        return Freshness(
            Status.STALE,
            no_data_since,
            last_heard,
            f"answering, but no new records for {format_duration(now - no_data_since)}, "
            f"since {format_local(no_data_since)} (expected within {format_duration(expect)})",
        )
    return Freshness(
        Status.FRESH,
        None,
        last_heard,
        "polled, not read yet"
        if last_heard is None
        else f"last heard {format_duration(max(timedelta(0), now - last_heard))} ago",
    )
