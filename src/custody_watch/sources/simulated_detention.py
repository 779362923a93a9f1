"""One simulated detention: its whole timeline, drawn from one seeded random generator.

Shapes follow ``shared/domain/SOURCES.md`` section 3 (children mostly aged 16-17;
durations lognormal, children median ~9h and p90 ~20h with 1-2% over 24h; appropriate
adults arriving after a median ~60 min, tail to 6h). With probability ``failure_rate`` a
child's detention commits one of ``FAILURES``, the failures the rules exist to catch.
Ordinary detentions keep to the law (reviews on time, charge or release or an extension
before the PACE limit), though some still reach rule thresholds, as in real suites: long
waits for an appropriate adult, children kept overnight."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from random import Random

from custody_watch.sources.simulated_care import CareSeed, draw_care
from custody_watch.sources.simulated_draft import (
    Draft,
    H,
    Timeline,
)
from custody_watch.times import LONDON, utc_z

FAILURES = (
    "no_aa_request",
    "review_missed",
    "no_la_transfer",
    "held_overnight",
    "under_12_no_secure_certificate",
    "child_s136_at_station",
    "police_protection_at_station",
    "under_10",
    "missing_dob",
    "past_pace_limit",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """What names a detention, fixed by its place in the arrival process."""

    custody_ref: str
    suite: str
    force: str
    person_ref: str


def draw_detention(
    rng: Random,
    arrival: datetime,
    who: Identity,
    child_share: float,
    failure_rate: float,
    care: CareSeed | None = None,
) -> Timeline:
    """One detention. ``care`` seeds the v2 fields of a child (``simulated_care``), drawn
    from a stream of their own so that everything drawn from ``rng`` is what it was before
    v2 (and adults, who have none, cost nothing more)."""
    child = rng.random() < child_share
    failure = rng.choice(FAILURES) if child and rng.random() < failure_rate else None
    draft = Draft(rng, arrival, child, failure, _legal_basis(rng, child, failure))
    draft.facts.update(
        custody_ref=who.custody_ref,
        suite=who.suite,
        force=who.force,
        person_ref=who.person_ref,
        legal_basis=draft.basis,
        arrival_time=utc_z(arrival),
    )
    _PLANS.get(draft.basis, _pace)(draft)
    _date_of_birth(draft)
    if child and draft.basis != "police_protection":
        _appropriate_adult(draft)
    if child and care is not None:
        draw_care(draft, care, failure_rate)
    return draft.finish()


def _legal_basis(rng: Random, child: bool, failure: str | None) -> str:
    if failure == "child_s136_at_station":
        return "mha_s136"
    if failure == "police_protection_at_station":
        return "police_protection"
    if failure is not None:
        return "pace_arrest"  # the other failures are PACE failures on a plain arrest
    r = rng.random()
    if child:
        bases = ((0.88, "pace_arrest"), (0.95, "bail_return"), (0.995, "warrant"))
        return next((basis for p, basis in bases if r < p), "police_protection")
    bases = ((0.85, "pace_arrest"), (0.93, "bail_return"), (0.99, "warrant"))
    return next((basis for p, basis in bases if r < p), "mha_s136")


def _pace(d: Draft) -> None:
    """Arrest, authorisation, reviews, then release, or charge (and for some, bail refused)."""
    rng = d.rng
    if d.basis != "bail_return":
        d.arrest = d.arrival - d.minutes(10, 75)
        d.facts["arrest_time"] = utc_z(d.arrest)
    prior = rng.randint(120, 900) if d.basis == "bail_return" else 0
    if prior:
        d.facts["prior_detention_minutes"] = str(prior)
    authorised = d.arrival + d.minutes(5, 35)
    d.record(authorised, detention_authorised_time=authorised)
    # The relevant time is arrival here (arrest + 24h is always later), so the limit is:
    limit = d.arrival + 24 * H - timedelta(minutes=prior)
    end = _pre_charge_end(d, authorised, limit)
    charged = d.basis != "warrant" and rng.random() < (0.25 if d.child else 0.33)
    refused = charged and rng.random() < (0.12 if d.child else 0.2)
    if d.failure in ("no_la_transfer", "under_12_no_secure_certificate"):
        charged = refused = True
    elif d.failure in ("under_10", "past_pace_limit"):
        charged = refused = False
    if refused:
        d.record(end, charged_time=end)
        d.charged = end
        _bail_refused(d, end + d.minutes(5, 25))
    elif charged:
        charged_at = max(authorised, end - d.minutes(15, 60))
        d.record(charged_at, charged_time=charged_at)
        d.charged = charged_at
        d.release, d.reason = end, "bailed"
    else:
        d.release = end
        if d.basis == "warrant":
            d.reason = "court"
        else:  # no further action or released under investigation, else pre-charge bail
            d.reason = "released" if rng.random() < 0.7 else "bailed"
    _reviews(d, authorised)


def _pre_charge_end(d: Draft, authorised: datetime, limit: datetime) -> datetime:
    """When the pre-charge part ends (release or charge): a drawn duration, bent by the
    failure, then kept within the PACE limit unless passing it is the failure."""
    end = d.arrival + _held_for(d.rng, d.child) * (0.45 if d.basis == "bail_return" else 1)
    match d.failure:
        case "past_pace_limit":
            return limit + d.hours(0.5, 5)
        case "under_10":
            end = d.arrival + d.hours(1, 4)
        case "review_missed":
            end = max(end, authorised + d.hours(7, 14))
        case "no_aa_request":
            end = max(end, d.arrival + d.hours(3.5, 8))
        case "held_overnight":
            end = max(end, _next_night(d.arrival) + d.hours(0.5, 5))
    return max(_within_limit(d, end, limit), authorised + d.minutes(15, 45))


def _within_limit(d: Draft, end: datetime, limit: datetime) -> datetime:
    """Ordinary detentions end (or are charged) before the PACE warning; a few long ones get
    a superintendent's extension (s.42) first."""
    if end <= limit - 3.5 * H:
        return end
    if d.rng.random() < 0.3:
        extended_at = max(d.arrival + H, limit - d.hours(4, 6))
        until = limit + 12 * H
        d.record(
            extended_at,
            superintendent_extension_time=extended_at,
            superintendent_extension_until=until,
        )
        return min(end, until - d.hours(3.5, 6))
    return limit - d.hours(3.5, 5)


def _bail_refused(d: Draft, refused: datetime) -> None:
    """Charged and refused bail: an adult waits for court; a child should move to
    local-authority accommodation (PACE s.38(6)) unless certified."""
    d.record(refused, bail_refused_time=refused)
    court = _court_sitting(d.rng, refused)
    d.release, d.reason = court, "court"
    d.court_sitting = court
    if not d.child:
        return
    if d.failure == "no_la_transfer":
        d.release = max(court, refused + d.hours(4.5, 8))
        return
    asked = refused + d.minutes(10, 45)
    d.record(asked, la_accommodation_requested_time=asked)
    if d.failure == "under_12_no_secure_certificate":
        _certificate(d, refused + d.minutes(30, 120), "no_secure_accommodation")
    elif d.rng.random() < 0.65:
        d.release, d.reason = refused + d.hours(1.5, 3.6), "transferred_la"
    else:
        _certificate(d, refused + d.minutes(40, 150), "impracticable")


def _certificate(d: Draft, at: datetime, ground: str) -> None:
    d.record(at, s38_certificate_time=at, s38_certificate_ground=ground)
    d.release = max(d.release or at, at + d.minutes(30, 90))


def _reviews(d: Draft, authorised: datetime) -> None:
    """PACE s.40 reviews: first before the 30-minute warning ahead of AT+6h, then at most
    8.4h apart. A missed first review happens late (or not at all before release)."""
    assert d.release is not None
    due = authorised + (d.hours(7.5, 10) if d.failure == "review_missed" else d.hours(3.5, 5.4))
    while due < d.release:
        d.record(due, reviews=due)
        due += d.hours(7.0, 8.4)


def _place_of_safety(d: Draft) -> None:
    """MHA s.136: a child here is the failure itself; some stay past the 24h limit too."""
    long_stay = d.child and d.rng.random() < 0.4
    d.release = d.arrival + (d.hours(20.5, 30) if long_stay else d.hours(2, 12))
    d.reason = "hospital" if d.child or d.rng.random() < 0.7 else "released"


def _police_protection(d: Draft) -> None:
    """Children Act s.46: held at the station; a few stay past 48h of protection."""
    start = d.arrival - d.minutes(0, 90)
    d.facts["police_protection_start"] = utc_z(start)
    long_stay = d.failure is not None and d.rng.random() < 0.4
    d.release = d.arrival + (d.hours(50, 78) if long_stay else d.hours(1, 6))
    d.reason = "transferred_la" if d.rng.random() < 0.7 else "other"


_PLANS: dict[str, Callable[[Draft], None]] = {
    "mha_s136": _place_of_safety,
    "police_protection": _police_protection,
}


def _appropriate_adult(d: Draft) -> None:
    """Asked for within 40 minutes; arrives after a lognormal wait (median 60 min, tail to
    6h). The failure: never asked for (and arriving late, if at all)."""
    if d.failure == "no_aa_request":
        if d.rng.random() < 0.5:
            late = d.arrival + d.hours(3.2, 6)
            d.record(late, appropriate_adult_arrived_time=late)
            d.aa_arrived = late
        return
    requested = d.arrival + d.minutes(5, 40)
    wait = min(6.0, max(0.15, math.exp(0.75 * d.rng.gauss(0, 1))))
    d.record(requested, appropriate_adult_requested_time=requested)
    arrived = requested + timedelta(minutes=round(wait * 60))
    d.record(arrived, appropriate_adult_arrived_time=arrived)
    d.aa_arrived = arrived


def _date_of_birth(d: Draft) -> None:
    """A date of birth giving the drawn age on the local date of arrest (else arrival)."""
    if d.failure == "missing_dob":
        return
    age = _age(d.rng, d.child, d.failure)
    on = (d.arrest or d.arrival).astimezone(LONDON).date()
    last_birthday = on - timedelta(days=d.rng.randrange(365))
    try:
        born = last_birthday.replace(year=last_birthday.year - age)
    except ValueError:  # 29 February in a year that has none
        born = date(last_birthday.year - age, 2, 28)
    d.facts["date_of_birth"] = born.isoformat()


def _age(rng: Random, child: bool, failure: str | None) -> int:
    if failure == "under_10":
        return rng.choice((8, 9))
    if failure == "under_12_no_secure_certificate":
        return rng.choice((10, 11))
    if not child:
        return 18 + min(62, int(rng.expovariate(1 / 13)))
    # SOURCES.md 3: ages 10-11 1%, 12-13 7%, 14-15 24%, 16-17 68%.
    r = rng.random()
    low = 10 if r < 0.01 else 12 if r < 0.08 else 14 if r < 0.32 else 16
    return low + rng.randrange(2)


def _held_for(rng: Random, child: bool) -> timedelta:
    """Lognormal time held. Most of the tail past 23.5h is pulled back to 19.5-23.5h (charged
    or released just before the limit), leaving 1-2% of children over 24h."""
    median, sigma = (9.0, 0.62) if child else (12.0, 0.55)
    hours = median * math.exp(sigma * rng.gauss(0, 1))
    if hours > 23.5 and rng.random() < 0.8:
        hours = rng.uniform(19.5, 23.5)
    return timedelta(minutes=round(max(0.5, hours) * 60))


def _next_night(arrival: datetime) -> datetime:
    """Arrival if it is already night (22:00-07:00 local), else the next 22:00."""
    local = arrival.astimezone(LONDON)
    if local.hour >= 22 or local.hour < 7:
        return arrival
    return datetime.combine(local.date(), time(22), tzinfo=LONDON).astimezone(UTC)


def _court_sitting(rng: Random, after: datetime) -> datetime:
    """The next morning court list (09:30-11:30 local, none on Sunday)."""
    local = after.astimezone(LONDON)
    day = local.date() if local.hour < 7 else local.date() + timedelta(days=1)
    if day.weekday() == 6:
        day += timedelta(days=1)
    opens = datetime.combine(day, time(9, 30), tzinfo=LONDON).astimezone(UTC)
    return opens + timedelta(minutes=rng.randint(0, 120))
