"""Facts about one detention as of one instant, worked out once and shared by every rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from custody_watch.domain import Detention, age_on
from custody_watch.rules.instants import later
from custody_watch.rules.policy import Policy

DAY = timedelta(hours=24)


def age_of(detention: Detention, policy: Policy) -> int | None:
    """Age on the local calendar date of arrest, else of arrival; None without a DOB."""
    return age_from(
        detention.date_of_birth, detention.arrest_time or detention.arrival_time, policy.zone
    )


def age_from(born: date | None, start: datetime, zone: tzinfo) -> int | None:
    """``age_of`` from the fields it reads: the date of birth and the arrest (else arrival)."""
    if born is None:
        return None
    try:
        day = start.astimezone(zone).date()
    except OverflowError:  # an instant at the calendar's very end: its UTC date will do
        day = start.date()
    return age_on(born, day)


def relevant_time(detention: Detention) -> datetime:
    """PACE s.41(2): as recorded, else the earlier of arrival and arrest + 24h."""
    if detention.relevant_time is not None:
        return detention.relevant_time
    if detention.arrest_time is not None:
        return min(detention.arrival_time, later(detention.arrest_time, DAY))
    return detention.arrival_time


def authorised_time(detention: Detention) -> datetime:
    return detention.detention_authorised_time or detention.arrival_time


@dataclass(frozen=True, slots=True)
class Facts:
    """A detention seen as of ``now``: later event times have not happened yet."""

    detention: Detention
    now: datetime
    age: int | None
    # Arrival times of the other records of the same person_ref (one per custody_ref, this
    # record's own excluded), for repeat_detention: the one rule that looks beyond a record.
    same_person_arrivals: tuple[datetime, ...] = ()

    @classmethod
    def of(
        cls,
        detention: Detention,
        policy: Policy,
        now: datetime,
        same_person_arrivals: Sequence[datetime] = (),
    ) -> Facts:
        return cls(detention, now, age_of(detention, policy), tuple(same_person_arrivals))

    def reached(self, at: datetime | None) -> bool:
        return at is not None and at <= self.now

    @property
    def in_custody(self) -> bool:
        return self.reached(self.detention.arrival_time) and not self.reached(
            self.detention.released_time
        )

    @property
    def is_child(self) -> bool:
        """Under 18, or of unknown age (PACE Code C 1.5)."""
        return self.age is None or self.age < 18

    def known_age_below(self, years: int) -> bool:
        """Without a DOB the person is treated as a child, but never as under 10 or 12."""
        return self.age is not None and self.age < years

    @property
    def charged(self) -> bool:
        return self.reached(self.detention.charged_time)

    @property
    def released(self) -> bool:
        return self.reached(self.detention.released_time)

    def so_far(self, times: tuple[datetime, ...]) -> tuple[datetime, ...]:
        """The entries of a list field at or before now (RULES.md, v2: like reviews)."""
        return tuple(at for at in times if at <= self.now)

    def latest_review(self) -> datetime | None:
        done = [review for review in self.detention.reviews if review <= self.now]
        return max(done) if done else None

    def counts(self, authority_time: datetime | None, until: datetime | None) -> bool:
        """An extension, warrant or MHA extension counts once recorded with an expiry and its
        ``..._time`` is reached (or absent)."""
        return until is not None and (authority_time is None or authority_time <= self.now)
