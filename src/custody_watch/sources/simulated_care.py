"""The v2 fields of a simulated child's detention (``shared/spec/custody-record.md``): Code C
for children, and what the inspection asked for.

Drawn from a random stream of its own (``care``), after the v1 plan has been drawn, so that
adding these fields changed nothing the v1 simulator drew. Rates are local-policy guesses in
the shape of the inspection's findings, not statistics:

- about 1 child in 8 is looked after (1 in 3 of the children who keep coming back);
- the person responsible for the child's welfare is told after a median 25 minutes, about 1
  time in 8 after more than an hour;
- 3 in 4 children are put in a cell, nearly always with a Code C 8.8 reason, and visited
  every 15-28 minutes; 2 in 3 PACE detainees are interviewed, once or twice, with the
  appropriate adult; 1 in 30 is strip-searched, with the appropriate adult;
- a child refused bail has the court's sitting recorded, and is taken there before it;
- most children are referred to children's social care before they leave, some within
  hours after, a few never; 2 in 5 cases get a supervisor's case review within 40 hours of
  release, graded in the inspection's proportions (20 good, 31 requires improvement, 28
  inadequate of 79).

With probability ``failure_rate`` a child's detention also commits one of ``CARE_FAILURES``
that applies to it: the breaches the v2 rules exist to catch. Repeat detentions come from
the suite's pool of children who come back (``simulated_suite``)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from custody_watch.sources.simulated_draft import Draft

MINUTE = timedelta(minutes=1)
# The share of child detentions that are of a child who keeps coming back (the inspection:
# "cumulative and repeat low-level risk"). A regular's person ref is the same each time;
# the rest of the record (age included) is drawn afresh, as for anyone.
REGULAR_SHARE = 0.2
CARE_FAILURES = (
    "welfare_late",
    "interview_without_aa",
    "strip_search_without_aa",
    "cell_no_reason",
    "adult_in_cell",
    "cell_visits_missed",
    "court_late",
    "no_referral",
)
CELL_REASONS = (
    ("no_other_secure_accommodation", 0.6),
    ("not_practicable_to_supervise", 0.3),
    ("more_comfortable", 0.1),
)
GRADES = (("good", 20), ("requires_improvement", 31), ("inadequate", 28))
PACE = ("pace_arrest", "bail_return", "warrant")


class _Care:
    """The draws for one child: minutes and hours from ``care``, never from the v1 stream."""

    def __init__(self, d: Draft, rng: Random) -> None:
        self.d = d
        self.rng = rng
        self.release = d.final_release()

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=round(self.rng.uniform(low, high)))

    def before_release(self, at: datetime) -> bool:
        return at < self.release


@dataclass(frozen=True, slots=True)
class CareSeed:
    """Where a child's v2 draws come from: the stream's key, and the suite's pool of
    children who keep coming back (``pool`` of them, named from ``pool_key``)."""

    key: str
    pool_key: str
    pool: int


def draw_care(d: Draft, seed: CareSeed, failure_rate: float) -> None:
    """Add the v2 fields of a child's detention to the draft."""
    rng = Random(seed.key)
    regular = regular_person(rng, seed)
    if regular is not None:
        d.facts["person_ref"] = regular
        d.regular = True
    care = _Care(d, rng)
    d.facts["looked_after"] = rng.random() < (0.35 if regular is not None else 0.12)
    # Fields whose absence is a finding are exported from arrival, empty until they happen.
    d.facts["welfare_person_informed_time"] = None
    d.facts["social_care_referral_time"] = None
    failure = None
    if rng.random() < failure_rate:
        failure = rng.choice([f for f in CARE_FAILURES if _applies(f, d)] or [None])
    d.care_failure = failure
    _welfare(care, failure)
    cell = _cell(care, failure)
    if d.basis in PACE:
        _interviews(care, failure)
        _strip_search(care, failure)
    if cell is not None:
        _cell_visits(care, cell, failure)
    _court(care, failure)
    _referral(care, failure)
    _case_review(care)


def _applies(failure: str, d: Draft) -> bool:
    if failure in ("interview_without_aa", "strip_search_without_aa"):
        return d.basis in PACE
    if failure == "court_late":
        return d.court_sitting is not None and d.reason == "court"
    return True


def _welfare(care: _Care, failure: str | None) -> None:
    """Told after a lognormal wait (median 25 minutes, capped under 3 hours); the failure:
    3-6 hours, or not before the child leaves."""
    d = care.d
    if failure == "welfare_late":
        wait = care.minutes(185, 360)
    else:
        wait = timedelta(minutes=min(170, round(25 * math.exp(0.75 * care.rng.gauss(0, 1)))))
    told = d.arrival + wait
    if care.before_release(told):
        d.record(told, welfare_person_informed_time=told)


def _cell(care: _Care, failure: str | None) -> datetime | None:
    d = care.d
    odds = 0.4 if d.basis in ("police_protection", "mha_s136", "mha_s135") else 0.75
    needs_cell = failure in ("cell_no_reason", "adult_in_cell", "cell_visits_missed")
    if not needs_cell and care.rng.random() >= odds:
        return None
    at = d.arrival + care.minutes(5, 30)
    if not care.before_release(at):
        return None
    d.record(at, cell_time=at)
    if failure != "cell_no_reason" and care.rng.random() < 0.97:
        reasons = [r for r, _ in CELL_REASONS]
        d.record(at, cell_reason=care.rng.choices(reasons, [w for _, w in CELL_REASONS])[0])
    if failure == "adult_in_cell":
        shared = at + care.minutes(20, 120)
        if care.before_release(shared):
            d.record(shared, adult_in_cell_time=shared)
    return at


def _cell_visits(care: _Care, cell: datetime, failure: str | None) -> None:
    """Every 15-28 minutes until release; the failure: one gap of 65-100 minutes."""
    gap_after = 2 if failure == "cell_visits_missed" else -1
    at, n = cell, 0
    while True:
        at += care.minutes(65, 100) if n == gap_after else care.minutes(15, 28)
        if not care.before_release(at):
            return
        care.d.record(at, cell_visit_times=at)
        n += 1


def _interviews(care: _Care, failure: str | None) -> None:
    """Once or twice with the appropriate adult; the failure: the first before the adult
    came (on a superintendent's authority for an urgent interview, 2 times in 5)."""
    d = care.d
    adult = d.aa_arrived
    if failure == "interview_without_aa":
        latest = (adult or care.release) - d.arrival
        first = d.arrival + care.minutes(5, max(6.0, latest / MINUTE - 1))
        if adult is not None and first >= adult:
            first = d.arrival + (adult - d.arrival) / 2
        if care.rng.random() < 0.4:
            authorised = first - care.minutes(5, 20)
            d.record(
                max(authorised, d.arrival),
                urgent_interview_authorised_time=max(authorised, d.arrival),
            )
    elif adult is None or care.rng.random() >= 0.65:
        return
    else:
        first = adult + care.minutes(10, 90)
    times = [first]
    if care.rng.random() < 0.3:
        times.append(first + care.minutes(60, 180))
    for at in times:
        if care.before_release(at) and at >= d.arrival:
            d.record(at, interview_times=at)


def _strip_search(care: _Care, failure: str | None) -> None:
    d = care.d
    adult = d.aa_arrived
    if failure == "strip_search_without_aa":
        until = (adult or care.release) - d.arrival
        at = d.arrival + care.minutes(5, max(6.0, until / MINUTE - 1))
        if adult is not None and at >= adult:
            at = d.arrival + (adult - d.arrival) / 2
        d.record(at, strip_search_times=at)
        if care.rng.random() < 0.3:
            d.record(at, strip_search_urgent=True)
        return
    if adult is None or care.rng.random() >= 1 / 30:
        return
    at = adult + care.minutes(5, 60)
    if care.before_release(at):
        d.record(at, strip_search_times=at)


def _court(care: _Care, failure: str | None) -> None:
    """The court's sitting, recorded with the refusal of bail: the child leaves for it 20-60
    minutes before; the failure: the sitting was 1-5 hours before the child was taken."""
    d = care.d
    if d.court_sitting is None or d.charged is None:
        return
    if failure == "court_late":
        due = max(d.charged + care.minutes(30, 60), care.release - care.minutes(60, 300))
    elif d.reason == "court":
        due = care.release + care.minutes(20, 60)
    else:
        due = d.court_sitting
    d.record(d.charged, court_due_time=due)


def _referral(care: _Care, failure: str | None) -> None:
    """Before the child leaves (85%), within 12 hours after (10%), or never (5%, and the
    failure)."""
    d = care.d
    r = care.rng.random()
    if failure == "no_referral" or r >= 0.95:
        return
    if r < 0.85:
        at = max(d.arrival, care.release - care.minutes(0, 60))
    else:
        at = care.release + care.minutes(30, 720)
    d.record(at, social_care_referral_time=at)


def _case_review(care: _Care) -> None:
    if care.rng.random() >= 0.4:
        return
    at = care.release + care.minutes(120, 2400)
    grades = [g for g, _ in GRADES]
    grade = care.rng.choices(grades, [w for _, w in GRADES])[0]
    care.d.record(at, case_review_time=at, case_review_grade=grade)


def regular_person(rng: Random, seed: CareSeed) -> str | None:
    """The first draws of a child's care stream: the person ref of a child who keeps coming
    back, or None. (``Simulator`` draws these alone to find a regular's earlier visits.)"""
    if rng.random() >= REGULAR_SHARE:
        return None
    return pseudonym(f"{seed.pool_key}:{rng.randrange(seed.pool)}")


def pseudonym(key: str) -> str:
    """A person ref that names no one: ``P`` and ten hex digits of a hash of ``key``."""
    return "P" + hashlib.sha256(f"person:{key}".encode()).hexdigest()[:10].upper()
