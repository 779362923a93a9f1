"""A header's compiled reading (``parse.csv_reader``) reads every CSV row as
``plain_csv_fields`` does: the same fields, in the same order, and the same rows left to the
usual reading."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody_watch.ingest.parse import csv_plan, csv_reader, plain_csv_fields
from custody_watch.times import LONDON

TIMES = st.sampled_from(
    [
        "2026-10-24T10:00:00Z", "2026-10-25T01:30:00+01:00", "2026-10-24T09:00:00.123456-05:00",
        "2026-10-24t10:00:00z", "2026-10-24T10:00:00", "2026-02-30T10:00:00Z",
        "1799-12-31T23:30:00-01:00", " 2026-10-24T10:00:00Z ", "", "  ", "x" * 70,
        "2026-10-24T10:00:00Z" + " " * 30, "2026-10-2\u0664T10:00:00Z",
    ]
)  # fmt: skip
TEXTS = st.sampled_from(["R-1", " R-2 ", "", "  ", "S\x00", "P\u2028", "é" * 65, "a" * 64])
# Half the draws plain values, so that many rows are accepted and compared field by field.
TIMES = st.one_of(st.sampled_from(["2026-10-24T10:00:00Z", "2026-10-25T01:30:00+01:00"]), TIMES)
TEXTS = st.one_of(st.sampled_from(["R-1", "S-2"]), TEXTS)
CELLS: dict[str, Any] = {  # first the three a row needs
    "arrival_time": TIMES, "custody_ref": TEXTS, "suite": TEXTS, "force": TEXTS,
    "person_ref": TEXTS, "released_time": TIMES, "updated_at": TIMES, "arrest_time": TIMES,
    "cell_time": TIMES,
    "date_of_birth": st.sampled_from(["2010-05-01", "2026-10-25", "2026-10-24", "2010-5-01",
                                      "", " 2010-05-01"]),
    "legal_basis": st.sampled_from(["pace_arrest", "warrant", "PACE_ARREST", "", " warrant "]),
    "release_reason": st.sampled_from(["bailed", "nope", ""]),
    "prior_detention_minutes": st.sampled_from(["30", "0012", "5760", "5761", "-1", "２", ""]),
    "reviews": st.sampled_from(["2026-10-24T10:00:00Z;2026-10-24T11:00:00Z", "a;", ";" * 70,
                                " 2026-10-24T10:00:00Z ; ", ""]),
    "interview_times": st.sampled_from(["2026-10-24T11:00:00Z;2026-10-24T11:00:00Z", ""]),
    "looked_after": st.sampled_from(["true", "false", "", "yes", " true "]),
    "notes": st.sampled_from(["\x00", "anything", ""]),
}  # fmt: skip


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), extra=st.integers(-1, 1))
def test_a_compiled_header_reads_each_row_as_plain_csv_fields_does(
    data: st.DataObject, extra: int
) -> None:
    others = data.draw(st.lists(st.sampled_from(list(CELLS)[3:]), unique=True))
    header = data.draw(st.permutations(["custody_ref", "suite", "arrival_time", *others]))
    cells = [data.draw(CELLS[name]) for name in header]
    if extra > 0:
        cells.append("more")  # a cell past the header's columns
    elif extra < 0:
        cells.pop()  # a row short of a cell
    line = ",".join(cells)
    plan = csv_plan(header)
    expected = plain_csv_fields(plan, cells, LONDON, line)
    read = csv_reader(plan, LONDON)(cells, line)
    assert read == expected, cells
    if expected is not None:
        assert list(read) == list(expected)  # the fields in the same order
