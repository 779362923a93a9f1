"""A block of CSV rows read a column at a time (``ingest.csv_block``) passes only rows the
compiled reading of one row (``parse.csv_reader``) accepts, with the values its fields hold,
and passes every such row of a line with no space, no character outside ASCII and none that
text may not hold."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody_watch.ingest.csv_block import block_reader, odd_lines, plain_text
from custody_watch.ingest.parse import csv_plan, csv_reader
from custody_watch.times import LONDON

PLAIN_TIMES = ["2026-10-24T10:00:00Z", "2026-10-25T01:30:00+01:00", "2026-10-24T09:00:00-05:00"]
TIMES = st.one_of(
    st.sampled_from(PLAIN_TIMES),
    st.sampled_from(
        [
            "2026-10-24T09:00:00.123456-05:00", "2026-10-24t10:00:00z", "2026-10-24T10:00:00",
            "2026-02-30T10:00:00Z", "1799-12-31T23:30:00-01:00", " 2026-10-24T10:00:00Z ",
            "", "  ", "x" * 70, "2026-10-24T10:00:00Z" + "0" * 30, "2026-10-2\u0664T10:00:00Z",
            "20261024T100000Z", "2026-10-24", "9000-12-31T23:00:00-01:00",
        ]
    ),
)  # fmt: skip
TEXTS = st.one_of(
    st.sampled_from(["R-1", "S-2", "R-3"]),
    st.sampled_from(["", "  ", " R ", "S\x00", "P\u2028", "é" * 65, "a" * 64, "a" * 65, "R\x7f"]),
)
CELLS: dict[str, Any] = {  # first the three a row needs
    "arrival_time": TIMES, "custody_ref": TEXTS, "suite": TEXTS, "force": TEXTS,
    "person_ref": TEXTS, "released_time": TIMES, "updated_at": TIMES, "arrest_time": TIMES,
    "cell_time": TIMES,
    "date_of_birth": st.sampled_from(["2010-05-01", "2026-10-25", "2026-10-24", "2026-10-23",
                                      "2010-5-01", "2010-02-30", "", " 2010-05-01",
                                      "２010-05-01"]),
    "legal_basis": st.sampled_from(["pace_arrest", "warrant", "PACE_ARREST", "", " warrant "]),
    "release_reason": st.sampled_from(["bailed", "nope", ""]),
    "prior_detention_minutes": st.sampled_from(["30", "0012", "5760", "5761", "-1", "２", "",
                                                "00000", "7"]),
    "reviews": st.sampled_from(["2026-10-24T10:00:00Z;2026-10-24T11:00:00Z", "a;", ";" * 70,
                                " 2026-10-24T10:00:00Z ; ", "", ";2026-10-24T10:00:00Z;",
                                "2026-10-24T10:00:00;", "x" * 50]),
    "interview_times": st.sampled_from(["2026-10-24T11:00:00Z;2026-10-24T11:00:00Z", ""]),
    "looked_after": st.sampled_from(["true", "false", "", "yes", " true "]),
    "notes": st.sampled_from(["\x00", "anything", "", "with space", "é"]),
}  # fmt: skip
PASSED = {  # what the block gives for a row -> the field it is
    "refs": "custody_ref", "persons": "person_ref", "arrivals": "arrival_time",
    "released": "released_time", "updated": "updated_at", "arrests": "arrest_time",
    "born": "date_of_birth",
}  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), count=st.integers(1, 12))
def test_a_block_passes_exactly_the_rows_the_compiled_reading_accepts_with_their_values(
    data: st.DataObject, count: int
) -> None:
    others = data.draw(st.lists(st.sampled_from(list(CELLS)[3:]), unique=True))
    header = data.draw(st.permutations(["custody_ref", "suite", "arrival_time", *others]))
    # Whole blocks of plain rows now and then, so that a column is read in one go.
    plain_only = data.draw(st.booleans())
    rows = [
        [data.draw(st.sampled_from(PLAIN_TIMES) if plain_only and name.endswith(("_time", "_at"))
                   else CELLS[name]) for name in header]
        for _ in range(count)
    ]  # fmt: skip
    lines = [",".join(cells) for cells in rows]
    plan = csv_plan(header)
    block = block_reader(plan, LONDON)(
        [list(column) for column in zip(*rows, strict=True)], odd_lines(lines)
    )
    one_row = csv_reader(plan, LONDON)
    for i, (cells, line) in enumerate(zip(rows, lines, strict=True)):
        fields = one_row(cells, line)
        if block.plain[i]:
            assert fields is not None, cells
            for name, field in PASSED.items():
                assert getattr(block, name)[i] == fields.get(field), (field, cells)
        elif fields is not None:
            assert odd_lines([line]), cells  # passed over only for its line's characters


def test_plain_text_is_text_with_no_odd_line() -> None:
    for text in ["R,S,2026-10-24T10:00:00Z\nR2,,\n", "a b\n", "a\tb\n", "é\n", "a\x7f\n", ""]:
        lines = text.split("\n")
        assert plain_text(text) == (not odd_lines(lines)), text
