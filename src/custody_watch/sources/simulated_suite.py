"""A simulated custody suite: when detentions arrive, as a pure function of the seed.

Time is cut into UTC hours. Hour h of suite s draws its number of arrivals from
``Random(f"{seed}:{s}:hour:{h}")`` (Poisson, with a rate that follows the day and the week,
children about 6-10% of them by default), and arrival j of that hour draws its whole
timeline from ``Random(f"{seed}:{s}:{h}:{j}")`` (``simulated_detention``), and a child's v2
fields from ``Random(f"{seed}:{s}:{h}:{j}:care")`` (``simulated_care``). Nothing depends
on what was generated before, so the same seed gives the same detentions after a restart,
and a window of time costs only the hours in it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

from custody_watch.sources.simulated_care import (
    REGULAR_SHARE,
    CareSeed,
    pseudonym,
    regular_person,
)
from custody_watch.sources.simulated_detention import Identity, draw_detention
from custody_watch.sources.simulated_draft import H, Timeline
from custody_watch.times import LONDON

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Relative arrival rates by local hour (few 04:00-08:00, peak late afternoon and evening)
# and by weekday (Monday first; busier Friday and Saturday).
HOUR_WEIGHTS = (
    1.1, 0.9, 0.7, 0.5, 0.3, 0.25, 0.3, 0.45, 0.7, 0.9, 1.0, 1.1,
    1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2,
)  # fmt: skip
DAY_WEIGHTS = (0.95, 0.9, 0.95, 1.0, 1.15, 1.2, 0.85)


@dataclass(frozen=True, slots=True)
class SuiteModel:
    seed: int
    suite: str
    force: str
    detentions_per_day: float
    child_share: float
    failure_rate: float

    def arrivals(self, hour: int) -> int:
        """How many detentions arrive in UTC hour ``hour`` (hours since 1970)."""
        local = hour_start(hour).astimezone(LONDON)
        rate = (
            self.detentions_per_day
            / 24
            * HOUR_WEIGHTS[local.hour]
            / (sum(HOUR_WEIGHTS) / 24)
            * DAY_WEIGHTS[local.weekday()]
            / (sum(DAY_WEIGHTS) / 7)
        )
        return _poisson(Random(f"{self.seed}:{self.suite}:hour:{hour}"), rate)

    def hour(self, hour: int) -> tuple[Timeline, ...]:
        """Every detention arriving in that hour."""
        return tuple(self.detention(hour, j) for j in range(self.arrivals(hour)))

    def detention(self, hour: int, j: int) -> Timeline:
        key = f"{self.seed}:{self.suite}:{hour}:{j}"
        rng = Random(key)
        start = hour_start(hour)
        arrival = start + timedelta(minutes=rng.randrange(60))
        who = Identity(
            custody_ref=f"{self.suite}-{start:%y%m%d-%H}{j:02d}",
            suite=self.suite,
            force=self.force,
            person_ref=_pseudonym(key),
        )
        # A child's v2 fields come from a stream of their own: the v1 draws stay as they were.
        return draw_detention(
            rng, arrival, who, self.child_share, self.failure_rate, self._care(key)
        )

    def regular_of(self, hour: int, j: int) -> str | None:
        """The person ref of arrival j of that hour if it is a child who keeps coming back,
        else None: the same first draws as ``detention``, without drawing the rest."""
        key = f"{self.seed}:{self.suite}:{hour}:{j}"
        rng = Random(key)
        rng.randrange(60)  # the arrival minute
        if rng.random() >= self.child_share:  # draw_detention's first draw: a child?
            return None
        care = self._care(key)
        return regular_person(Random(care.key), care)

    def _care(self, key: str) -> CareSeed:
        return CareSeed(f"{key}:care", f"{self.seed}:{self.suite}:regular", self.pool)

    @property
    def pool(self) -> int:
        """How many children keep coming back to this suite: sized so that each comes
        about four times in 90 days, which ``repeat_detention`` (2 others) catches."""
        children_per_day = self.detentions_per_day * self.child_share
        return max(3, round(children_per_day * 90 * REGULAR_SHARE / 4))


def hour_start(hour: int) -> datetime:
    return EPOCH + hour * H


def hour_of(at: datetime) -> int:
    return math.floor((at - EPOCH) / H)


def _poisson(rng: Random, rate: float) -> int:
    if rate > 30:  # the normal approximation is close and avoids exp(-rate) underflow
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    count, product, floor = 0, rng.random(), math.exp(-rate)
    while product > floor:
        count += 1
        product *= rng.random()
    return count


def _pseudonym(key: str) -> str:
    return pseudonym(key)
