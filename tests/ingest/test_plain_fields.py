"""The one-pass reading of a plain row (``parse._plain_fields``) accepts only what the exact
reading accepts, and gives the same fields."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody_watch.ingest.parse import RowError, _plain_fields, exact_fields, read_fields
from custody_watch.times import LONDON

TIMES = st.sampled_from(
    [
        "2026-10-24T10:00:00Z", "2026-10-25T01:30:00+01:00", "2026-10-25T01:30:00+00:00",
        "2026-10-24T09:00:00.123456-05:00", "2026-10-24t10:00:00z", "2026-10-24T10:00:00",
        "2026-02-30T10:00:00Z", "1799-12-31T23:30:00-01:00", "9000-12-31T23:00:00Z",
        "2026-10-24 10:00Z", "20261024T100000Z", " 2026-10-24T10:00:00Z ", "",
        "2026-10-24T10:00:00+01:00:00.000001", "2026-10-2\u0664T10:00:00Z", "x" * 70,
    ]
)  # fmt: skip
TEXTS = st.sampled_from(["R-1", " R-2 ", "", "  ", "S\x00", "P\u2028", "é" * 65, "a" * 64])
VALUES: dict[str, Any] = {
    "custody_ref": TEXTS, "suite": TEXTS, "arrival_time": TIMES, "force": TEXTS,
    "person_ref": TEXTS, "released_time": TIMES, "updated_at": TIMES, "arrest_time": TIMES,
    "charged_time": TIMES, "cell_time": TIMES,
    "date_of_birth": st.sampled_from(["2010-05-01", "2026-10-25", "2026-10-24", "2010-5-01",
                                      "2010-13-01", "", "\u0662010-01-01"]),
    "legal_basis": st.sampled_from(["pace_arrest", "warrant", "PACE_ARREST", "", " other "]),
    "release_reason": st.sampled_from(["bailed", "nope", ""]),
    "cell_reason": st.sampled_from(["more_comfortable", "x"]),
    "prior_detention_minutes": st.sampled_from(
        ["30", "0012", "5760", "5761", "-1", "1.0", "２", "", 30, -1, 6000, True, 30.0]
    ),
    "reviews": st.one_of(
        st.lists(st.one_of(TIMES, st.none(), st.just(5)), max_size=3),
        st.sampled_from(["2026-10-24T10:00:00Z;2026-10-24T11:00:00Z", "a;", ";" * 70]),
    ),
    "interview_times": st.lists(TIMES, max_size=3),
    "looked_after": st.sampled_from(["true", "false", "", "yes", True, False, 1]),
    "welfare_person_informed_time": st.one_of(st.none(), TIMES),
    "notes": st.sampled_from(["\x00", "anything"]),
}  # fmt: skip


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), typed=st.booleans())
def test_a_plain_row_reads_as_the_exact_reading_reads_it(data: st.DataObject, typed: bool) -> None:
    names = data.draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True, min_size=2))
    values = {name: data.draw(VALUES[name]) for name in names}
    try:
        expected: dict[str, Any] | None = exact_fields(values, local_zone=LONDON, typed=typed)
    except RowError:
        expected = None
    plain = None
    try:
        plain = _plain_fields(values, None, LONDON, typed)
    except Exception:
        plain = None
    if plain is not None:
        assert plain == expected, values  # never accepts what the exact reading refuses
    if expected is not None:
        assert read_fields(values, local_zone=LONDON, typed=typed) == expected
        kept = read_fields(values, local_zone=LONDON, typed=typed, utc=False)
        assert kept == expected  # the same instants, whatever offset they keep
