"""A simulated detention while it is drawn (``Draft``), and what it becomes: a ``Timeline``
of what is known at arrival and the events after it.

Its own module because two planners fill a draft: ``simulated_detention`` (the v1 plan) and
``simulated_care`` (the v2 fields, drawn after it from a stream of their own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

from custody_watch.times import utc_z

H = timedelta(hours=1)
# No simulated event falls later than this after arrival: a poll looks this far back.
MAX_SPAN = 96 * H


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    values: tuple[tuple[str, str | bool], ...]


# Fields that are lists: each event adds an entry (as ``reviews`` always has).
LIST_FIELDS = ("reviews", "interview_times", "strip_search_times", "cell_visit_times")
# What may still be recorded after a child has left: the referral to children's social care
# and the supervisor's case review (v2).
AFTER_RELEASE = frozenset({"social_care_referral_time", "case_review_grade", "case_review_time"})


@dataclass(frozen=True, slots=True)
class Timeline:
    """One detention: what is known from arrival, then events in time order."""

    arrival: datetime
    released: datetime
    facts: tuple[tuple[str, str | bool | None], ...]
    events: tuple[Event, ...]
    child: bool
    failure: str | None
    care_failure: str | None = None
    regular: bool = False  # a child who keeps coming back (``simulated_care``)

    def known_at(self, now: datetime) -> tuple[dict[str, object], datetime] | None:
        """The record as the custody system shows it at ``now`` (later events are not there
        yet), and its ``updated_at``: the time of the latest event that is."""
        if self.arrival > now:
            return None
        values: dict[str, object] = dict(self.facts)
        lists: dict[str, list[object]] = {}
        latest = self.arrival
        for event in self.events:
            if event.at > now:
                break
            latest = event.at
            for name, value in event.values:
                if name in LIST_FIELDS:
                    lists.setdefault(name, []).append(value)
                else:
                    values[name] = value
        values.update(lists)
        values["updated_at"] = utc_z(latest)
        return values, latest


@dataclass
class Draft:
    """A detention while it is being drawn."""

    rng: Random
    arrival: datetime
    child: bool
    failure: str | None
    basis: str
    facts: dict[str, str | bool | None] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    release: datetime | None = None
    reason: str = "released"
    arrest: datetime | None = None
    # Kept for the v2 fields (``simulated_care``): what the v1 plan decided.
    aa_arrived: datetime | None = None
    charged: datetime | None = None
    court_sitting: datetime | None = None
    care_failure: str | None = None
    regular: bool = False

    def record(self, at: datetime, **values: str | datetime | bool) -> None:
        text = {k: utc_z(v) if isinstance(v, datetime) else v for k, v in values.items()}
        self.events.append(Event(max(at, self.arrival), tuple(text.items())))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=round(self.rng.uniform(low, high) * 60))

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))

    def final_release(self) -> datetime:
        return min(self.release or self.arrival + H, self.arrival + MAX_SPAN - H)

    def finish(self) -> Timeline:
        release = self.final_release()
        self.record(release, released_time=release, release_reason=self.reason)
        # Nothing happens at the station after release, but a referral or a case review may
        # be recorded later (up to MAX_SPAN after arrival, so that polls still see it);
        # a stable sort keeps same-minute order.
        events = sorted(
            (
                e
                for e in self.events
                if e.at <= release
                or (
                    e.at <= self.arrival + MAX_SPAN
                    and all(name in AFTER_RELEASE for name, _ in e.values)
                )
            ),
            key=lambda e: e.at,
        )
        return Timeline(
            self.arrival,
            release,
            tuple(self.facts.items()),
            tuple(events),
            self.child,
            self.failure,
            self.care_failure,
            self.regular,
        )
