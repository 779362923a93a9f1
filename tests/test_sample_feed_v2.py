"""The v2 rows of the sample feed in config/sample give the findings documented in its README
("The v2 rows: documented instants"), through the real command line as in
``test_sample_feed``: at the instant the documented severity and ``since``, one second before
the finding absent or at the lower severity given; and each finding clears at its instant."""

from __future__ import annotations

import pytest

from test_sample_feed import (  # the same cached command-line runner
    CSV,
    JSONL,
    SAMPLE,
    Evaluate,
    _finding,
    _one_second_before,
    _summary,
    evaluate,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.slow

V2_RULES = {
    "welfare_not_informed",
    "interview_without_aa",
    "strip_search_without_aa",
    "child_in_cell",
    "child_with_adult_in_cell",
    "cell_visit_overdue",
    "court_production_overdue",
    "repeat_detention",
    "referral_missing",
}

# (rule, custody_ref, severity, since, severity one second before or None when absent)
DOCUMENTED_V2 = [
    ("welfare_not_informed", "NTH-26-4141", "high", "2026-06-10T09:10:00Z", None),
    ("welfare_not_informed", "NTH-26-4141", "critical", "2026-06-10T11:10:00Z", "high"),
    ("welfare_not_informed", "NTH-26-4147", "warning", "2026-06-10T17:30:00Z", None),
    ("welfare_not_informed", "NTH-26-4147", "high", "2026-06-10T19:30:00Z", "warning"),
    ("interview_without_aa", "NTH-26-4142", "critical", "2026-06-10T10:00:00Z", None),
    ("interview_without_aa", "NTH-26-4143", "high", "2026-06-10T11:50:00Z", None),
    ("strip_search_without_aa", "NTH-26-4143", "high", "2026-06-10T12:00:00Z", None),
    ("strip_search_without_aa", "NTH-26-4144", "critical", "2026-06-10T12:45:00Z", None),
    ("child_in_cell", "NTH-26-4144", "high", "2026-06-10T12:30:00Z", None),
    ("child_with_adult_in_cell", "NTH-26-4145", "critical", "2026-06-10T11:20:00Z", None),
    ("cell_visit_overdue", "NTH-26-4144", "warning", "2026-06-10T13:55:00Z", None),
    ("cell_visit_overdue", "NTH-26-4144", "high", "2026-06-10T14:25:00Z", "warning"),
    ("court_production_overdue", "NTH-26-4145", "high", "2026-06-10T10:00:00Z", None),
    ("court_production_overdue", "NTH-26-4145", "critical", "2026-06-10T14:00:00Z", "high"),
    ("repeat_detention", "NTH-26-4146", "warning", "2026-06-10T15:00:00Z", None),
    ("referral_missing", "NTH-26-4142", "info", "2026-06-10T14:00:00Z", None),
]

# (custody_ref, instant, rules present one second before and gone at the instant)
CLEARS_V2 = [
    ("NTH-26-4141", "2026-06-10T11:40:00Z", ["welfare_not_informed"]),
    ("NTH-26-4142", "2026-06-10T14:00:00Z", ["interview_without_aa"]),
    ("NTH-26-4144", "2026-06-10T14:40:00Z", ["cell_visit_overdue"]),
    (
        "NTH-26-4145",
        "2026-06-10T14:30:00Z",
        ["court_production_overdue", "child_with_adult_in_cell"],
    ),
    ("NTH-26-4143", "2026-06-10T15:30:00Z", ["interview_without_aa", "strip_search_without_aa"]),
    ("NTH-26-4144", "2026-06-10T15:45:00Z", ["child_in_cell", "strip_search_without_aa"]),
    ("NTH-26-4147", "2026-06-10T20:00:00Z", ["welfare_not_informed"]),
    ("NTH-26-4146", "2026-06-10T20:00:00Z", ["repeat_detention"]),
    ("NTH-26-4142", "2026-06-11T08:00:00Z", ["referral_missing"]),
]


def test_the_documented_v2_instants_cover_every_v2_rule() -> None:
    assert {case[0] for case in DOCUMENTED_V2} == V2_RULES


@pytest.mark.parametrize("case", DOCUMENTED_V2, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_each_v2_finding_appears_at_its_instant_and_not_a_second_before(
    evaluate: Evaluate,  # noqa: F811
    case: tuple[str, str, str, str, str | None],
) -> None:
    rule, ref, severity, since, before = case
    now = _finding(evaluate(since), ref, rule)
    assert now is not None, f"{ref} {rule} missing at {since}"
    assert (now["severity"], now["since"]) == (severity, since)
    earlier = _finding(evaluate(_one_second_before(since)), ref, rule)
    assert (earlier and earlier["severity"]) == before


@pytest.mark.parametrize("case", CLEARS_V2, ids=lambda c: f"{c[0]}-{c[1]}")
def test_v2_findings_clear_at_the_documented_instant(
    evaluate: Evaluate,  # noqa: F811
    case: tuple[str, str, list[str]],
) -> None:
    ref, at, rules = case
    before = evaluate(_one_second_before(at))
    after = evaluate(at)
    for rule in rules:
        assert _finding(before, ref, rule) is not None, f"{ref} {rule} not active before {at}"
        assert _finding(after, ref, rule) is None, f"{ref} {rule} still active at {at}"


def test_a_late_appropriate_adult_leaves_the_interview_breach_standing(
    evaluate: Evaluate,  # noqa: F811
) -> None:
    # NTH-26-4142: interviewed at 10:00Z, the appropriate adult there at 11:30Z.
    found = _finding(evaluate("2026-06-10T12:00:00Z"), "NTH-26-4142", "interview_without_aa")
    assert found is not None
    assert (found["severity"], found["since"]) == ("critical", "2026-06-10T10:00:00Z")


def test_the_detention_outside_the_90_days_is_not_one_of_the_repeats(
    evaluate: Evaluate,  # noqa: F811
) -> None:
    found = _finding(evaluate("2026-06-10T16:00:00Z"), "NTH-26-4146", "repeat_detention")
    assert found is not None
    # Two others in the 90 days (2 April, 21 May); 20 February is older.
    assert "2 other" in found["detail"]


def test_the_earlier_detentions_of_the_repeat_child_raise_nothing_on_the_day(
    evaluate: Evaluate,  # noqa: F811
) -> None:
    earlier = {"NTH-26-2871", "NTH-26-3390", "NTH-26-3912"}
    for at in ("2026-06-10T15:00:00Z", "2026-06-10T18:00:00Z", "2026-06-11T02:00:00Z"):
        assert not {f["custody_ref"] for f in evaluate(at)["findings"]} & earlier


@pytest.mark.parametrize(
    "at",
    [
        "2026-06-10T09:10:00Z",
        "2026-06-10T11:30:00Z",
        "2026-06-10T12:50:00Z",
        "2026-06-10T14:25:00Z",
        "2026-06-10T15:00:00Z",
        "2026-06-10T19:30:00Z",
    ],
)
def test_the_jsonl_copy_gives_the_same_v2_findings_as_the_csv(
    evaluate: Evaluate,  # noqa: F811
    at: str,
) -> None:
    assert _summary(evaluate(at, JSONL)) == _summary(evaluate(at, CSV))


def test_the_readme_v2_table_lists_exactly_the_documented_instants() -> None:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    section = text.split("## The v2 rows: documented instants", 1)[1].split("### v2 instants", 1)[0]
    rows = [
        [cell.strip().strip("`*") for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    listed = {
        (rule, ref, severity, since, None if before == "absent" else before)
        for rule, ref, severity, since, shown, _local, before, *_ in rows
        if shown == "same"
    }
    assert len(listed) == len(rows)
    assert listed == set(DOCUMENTED_V2)


def test_the_readme_v2_clear_table_lists_exactly_the_clearing_instants() -> None:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    section = text.split("### v2 instants at which findings clear", 1)[1].split("###", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| NTH-")
    ]
    listed = {
        (ref, at, tuple(sorted(r.strip("` ") for r in rules.split(","))))
        for ref, at, rules, _why in rows
    }
    assert listed == {(ref, at, tuple(sorted(rules))) for ref, at, rules in CLEARS_V2}
