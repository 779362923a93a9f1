"""Properties of the engine over generated records and instants (hypothesis).

Records are built around arrival times anywhere in 2026, with extra weight on the two
clock-change nights, and every optional field may be absent. Offsets are drawn both to the
second and on a half-hour grid, so that event times often coincide with thresholds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from custody_watch.domain import (
    CertificateGround,
    Detention,
    Finding,
    LegalBasis,
    ReleaseReason,
)
from custody_watch.rules import RULE_IDS, Policy, assess, evaluate, evaluate_all

from .support import (
    ADULT_RULES,
    CHILDREN_ONLY,
    DOCUMENTED_SEVERITIES,
    EVERYONE,
    LONDON,
    H,
    S,
    london,
    utc,
)

FAST = settings(max_examples=200, deadline=None, database=None)

YEAR_START = utc(2026, 1, 1)
YEAR_SECONDS = int((utc(2027, 1, 1) - YEAR_START).total_seconds()) - 1
CLOCK_CHANGES = (utc(2026, 3, 29, 1, 0), utc(2026, 10, 25, 1, 0))

# Times the rules read "as of T" (RULES.md, Precise reading 1); `reviews` is handled apart.
AS_OF_FIELDS = (
    "charged_time",
    "bail_refused_time",
    "la_accommodation_requested_time",
    "s38_certificate_time",
    "appropriate_adult_requested_time",
    "appropriate_adult_arrived_time",
    "released_time",
    "superintendent_extension_time",
    "warrant_time",
    "mha_extension_time",
)
UNTIL_OF = {
    "superintendent_extension_time": "superintendent_extension_until",
    "warrant_time": "warrant_until",
    "mha_extension_time": "mha_extension_until",
}


@cache
def offsets(low: timedelta, high: timedelta) -> st.SearchStrategy[timedelta]:
    """Offsets in [low, high], to the second or on a half-hour grid (built once per range:
    building strategies in every draw makes generation several times slower)."""
    lo, hi = int(low.total_seconds()), int(high.total_seconds())
    return st.one_of(
        st.integers(lo, hi).map(lambda s: timedelta(seconds=s)),
        st.integers(-(-lo // 1800), hi // 1800).map(lambda n: timedelta(seconds=1800 * n)),
    )


def london_hour(day_of_year: int, hour: int) -> datetime:
    """``hour``:00 Europe/London on day ``day_of_year`` (0-based) of 2026, as UTC."""
    day = date(2026, 1, 1) + timedelta(days=day_of_year)
    return london(day.year, day.month, day.day, hour)


instants = st.one_of(
    st.integers(0, YEAR_SECONDS).map(lambda s: YEAR_START + timedelta(seconds=s)),
    st.builds(
        lambda night, offset: night + offset,
        st.sampled_from(CLOCK_CHANGES),
        offsets(-48 * H, 48 * H),
    ),
    # Around local 22:00, midnight and 07:00, where the overnight window opens and closes.
    st.builds(
        lambda day, hour, offset: london_hour(day, hour) + offset,
        st.integers(0, 363),
        st.sampled_from([22, 0, 7]),
        offsets(-2 * H, 2 * H),
    ),
)


@cache
def optional_offsets(low: timedelta, high: timedelta) -> st.SearchStrategy[timedelta | None]:
    return st.none() | offsets(low, high)


def born(arrival: datetime, years: int, shift: int) -> date:
    """Someone ``years`` old whose birthday is ``shift`` days from the local arrival date."""
    local = arrival.astimezone(LONDON).date()
    try:
        birthday = local.replace(year=local.year - years)
    except ValueError:  # 29 February
        birthday = date(local.year - years, 3, 1)
    return birthday + timedelta(days=shift)


# (years old, days from the birthday) or None: ages near 10, 12 and 18 matter most.
AGES = st.none() | st.tuples(st.integers(5, 25), st.integers(-2, 2))
BASES = st.sampled_from(LegalBasis)
PRIOR_MINUTES = st.just(0) | st.integers(0, 2000)
GROUNDS = st.none() | st.sampled_from(CertificateGround)
REASONS = st.none() | st.sampled_from(ReleaseReason)
REVIEW_OFFSETS = st.lists(offsets(-1 * H, 60 * H), max_size=3)
POLICIES = st.sampled_from([CHILDREN_ONLY, EVERYONE])


@st.composite
def detentions(draw: st.DrawFn, custody_ref: str = "C-1") -> Detention:
    arrival = draw(instants)

    def maybe(low: timedelta, high: timedelta) -> datetime | None:
        offset = draw(optional_offsets(low, high))
        return None if offset is None else arrival + offset

    age = draw(AGES)
    dob = None if age is None else born(arrival, *age)
    released = maybe(0 * H, 100 * H)
    return Detention(
        custody_ref=custody_ref,
        suite="S1",
        arrival_time=arrival,
        date_of_birth=dob,
        legal_basis=draw(BASES),
        arrest_time=maybe(-40 * H, 0 * H),
        relevant_time=maybe(-30 * H, 2 * H),
        detention_authorised_time=maybe(0 * H, 2 * H),
        prior_detention_minutes=draw(PRIOR_MINUTES),
        reviews=tuple(arrival + offset for offset in draw(REVIEW_OFFSETS)),
        superintendent_extension_time=maybe(0 * H, 40 * H),
        superintendent_extension_until=maybe(10 * H, 50 * H),
        warrant_time=maybe(0 * H, 60 * H),
        warrant_until=maybe(20 * H, 120 * H),
        mha_extension_time=maybe(0 * H, 30 * H),
        mha_extension_until=maybe(10 * H, 48 * H),
        police_protection_start=maybe(-80 * H, 0 * H),
        charged_time=maybe(0 * H, 60 * H),
        bail_refused_time=maybe(0 * H, 60 * H),
        la_accommodation_requested_time=maybe(0 * H, 60 * H),
        s38_certificate_time=maybe(0 * H, 60 * H),
        s38_certificate_ground=draw(GROUNDS),
        appropriate_adult_requested_time=maybe(0 * H, 10 * H),
        appropriate_adult_arrived_time=maybe(0 * H, 12 * H),
        released_time=released,
        release_reason=draw(REASONS) if released else None,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Detention, Policy, datetime]:
    detention = draw(detentions())
    now = detention.arrival_time + draw(offsets(-6 * H, 110 * H))
    return detention, draw(POLICIES), now


def triples(findings: list[Finding] | tuple[Finding, ...]) -> set[tuple[str, str, datetime]]:
    return {(f.rule, f.severity.value, f.since) for f in findings}


def as_of_event_times(d: Detention) -> list[datetime]:
    times = [getattr(d, name) for name in AS_OF_FIELDS]
    return [at for at in (*times, *d.reviews) if at is not None]


def in_custody(d: Detention, now: datetime) -> bool:
    return d.arrival_time <= now and (d.released_time is None or d.released_time > now)


# ---------------------------------------------------------------------------------------------


@FAST
@given(cases())
def test_evaluation_is_deterministic(case):
    detention, policy, now = case
    assert assess(detention, policy, now) == assess(detention, policy, now)
    assert evaluate(detention, policy, now) == evaluate(detention, policy, now)


@FAST
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True).flatmap(
        lambda refs: st.tuples(*(detentions(custody_ref=f"C-{ref}") for ref in refs))
    ),
    st.randoms(use_true_random=False),
    instants,
    POLICIES,
)
def test_evaluate_all_is_independent_of_input_order_and_sorted(records, rnd, now, policy):
    shuffled = list(records)
    rnd.shuffle(shuffled)
    found = evaluate_all(records, policy, now)
    assert evaluate_all(shuffled, policy, now) == found
    keys = [f.sort_key() for f in found]
    assert keys == sorted(keys)
    assert sorted(triples(found)) == sorted(
        {t for d in records for t in triples(evaluate(d, policy, now))}
    )


@FAST
@given(cases())
def test_every_finding_is_a_documented_rule_and_severity_reached_by_now(case):
    detention, policy, now = case
    findings = evaluate(detention, policy, now)
    rules = [f.rule for f in findings]
    assert len(rules) == len(set(rules)), "one finding per rule"
    for finding in findings:
        assert finding.rule in RULE_IDS
        assert finding.severity in DOCUMENTED_SEVERITIES[finding.rule]
        assert finding.custody_ref == detention.custody_ref
        assert finding.since <= now


@FAST
@given(cases())
def test_findings_are_only_for_records_in_custody(case):
    detention, policy, now = case
    if not in_custody(detention, now):
        assert evaluate(detention, policy, now) == []


@FAST
@given(cases())
def test_adults_get_only_the_adult_rules_and_only_with_scope_all(case):
    detention, _policy, now = case
    adult = replace(detention, date_of_birth=born(detention.arrival_time, 30, 0))
    assert evaluate(adult, CHILDREN_ONLY, now) == []
    assert {f.rule for f in evaluate(adult, EVERYONE, now)} <= ADULT_RULES
    # A child's findings do not depend on the scope (age: on the date of arrest, else arrival).
    start = detention.arrest_time or detention.arrival_time
    if detention.date_of_birth is None or born(start, 18, 0) < detention.date_of_birth:
        assert evaluate(detention, CHILDREN_ONLY, now) == evaluate(detention, EVERYONE, now)


@FAST
@given(cases())
def test_nothing_changes_before_next_change(case):
    detention, policy, now = case
    evaluation = assess(detention, policy, now)
    here = triples(evaluation.findings)
    if evaluation.next_change is None:
        assert not [at for at in as_of_event_times(detention) if at > now]
        assert triples(evaluate(detention, policy, now + timedelta(days=400))) == here
        return
    upcoming = evaluation.next_change
    assert upcoming > now
    assert not [at for at in as_of_event_times(detention) if now < at < upcoming]
    assert triples(evaluate(detention, policy, upcoming - S)) == here


@FAST
@given(cases())
def test_events_after_t_are_as_if_never_recorded(case):
    detention, policy, now = case
    blank: dict[str, object] = {}
    for name in AS_OF_FIELDS:
        at = getattr(detention, name)
        if at is not None and at > now:
            blank[name] = None
            if name in UNTIL_OF:
                blank[UNTIL_OF[name]] = None
    stripped = replace(detention, reviews=tuple(r for r in detention.reviews if r <= now), **blank)
    assert triples(evaluate(detention, policy, now)) == triples(evaluate(stripped, policy, now))
