"""The sample feed in config/sample gives the findings documented in its README.

Each documented instant is checked through the real command line,
`python -m custody_watch evaluate RECORDS --at T --format json`, run in an empty temporary
directory so that the built-in defaults apply. One second before the instant the finding is
absent (or at the lower severity given); at the instant it has the documented severity and
`since`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# About a hundred runs of the command line, each a fresh interpreter.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "config" / "sample"
CSV = SAMPLE / "suite-day.csv"
JSONL = SAMPLE / "suite-day.jsonl"

Output = dict[str, Any]
Evaluate = Callable[..., Output]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00"))


def _one_second_before(t: str) -> str:
    return _iso(_parse(t) - timedelta(seconds=1))


@pytest.fixture(scope="module")
def evaluate(tmp_path_factory: pytest.TempPathFactory) -> Evaluate:
    """Run the real CLI (``custody_watch.cli.main``, cached per file, instant and config) and
    return its parsed JSON. In this process, from an empty working directory and without
    ``CUSTODY_WATCH_CONFIG``, so the config is what the command is given or the built-in
    defaults: a new interpreter per instant cost a second each (about a minute of the suite),
    and the installed command itself is run by .ci/install-check."""
    workdir = tmp_path_factory.mktemp("evaluate-cwd")
    cache: dict[tuple[str, str, str | None], Output] = {}

    def run(at: str, records: Path = CSV, config: Path | None = None) -> Output:
        key = (str(records), at, None if config is None else str(config))
        if key not in cache:
            args = ["evaluate", str(records), "--at", at, "--format", "json"]
            if config is not None:
                args += ["--config", str(config)]
            code, out, err = _in_process(args, workdir)
            assert code == 0, f"exit {code}: {err}"
            cache[key] = json.loads(out)
        return cache[key]

    return run


def _in_process(args: list[str], workdir: Path) -> tuple[int, str, str]:
    from custody_watch.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd, config = os.getcwd(), os.environ.pop("CUSTODY_WATCH_CONFIG", None)
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(cwd)
        if config is not None:
            os.environ["CUSTODY_WATCH_CONFIG"] = config
    return code, out.getvalue(), err.getvalue()


def _finding(out: Output, ref: str, rule: str) -> dict[str, Any] | None:
    hits = [f for f in out["findings"] if f["custody_ref"] == ref and f["rule"] == rule]
    assert len(hits) <= 1, f"{ref} {rule} reported {len(hits)} times"
    return hits[0] if hits else None


def _summary(out: Output) -> list[tuple[str, str, str, str]]:
    return [(f["severity"], f["since"], f["custody_ref"], f["rule"]) for f in out["findings"]]


# (rule, custody_ref, severity, since, shown_from or None when the same as since,
#  severity one second before shown_from or None when absent): the README table.
DOCUMENTED = [
    ("pace_limit", "NTH-26-4106", "warning", "2026-06-10T12:00:00Z", None, None),
    ("pace_limit", "NTH-26-4103", "warning", "2026-06-10T22:45:00Z", None, None),
    ("pace_limit", "NTH-26-4103", "high", "2026-06-11T00:45:00Z", None, "warning"),
    ("pace_limit", "NTH-26-4103", "critical", "2026-06-11T01:45:00Z", None, "high"),
    ("review_overdue", "NTH-26-4103", "warning", "2026-06-10T22:40:00Z", None, None),
    ("review_overdue", "NTH-26-4103", "high", "2026-06-10T23:10:00Z", None, "warning"),
    ("review_overdue", "NTH-26-4103", "critical", "2026-06-11T01:10:00Z", None, "high"),
    ("child_detention_duration", "NTH-26-4103", "warning", "2026-06-10T09:45:00Z", None, None),
    ("child_detention_duration", "NTH-26-4103", "high", "2026-06-10T17:45:00Z", None, "warning"),
    ("child_detention_duration", "NTH-26-4103", "critical", "2026-06-11T01:45:00Z", None, "high"),
    ("post_charge_transfer", "NTH-26-4116", "high", "2026-06-10T23:50:00Z", None, None),
    ("post_charge_transfer", "NTH-26-4116", "critical", "2026-06-11T02:50:00Z", None, "high"),
    ("invalid_s38_certificate", "NTH-26-4124", "critical", "2026-06-10T22:20:00Z", None, None),
    ("place_of_safety_child", "NTH-26-4120", "critical", "2026-06-10T15:05:00Z", None, None),
    ("place_of_safety_limit", "NTH-26-4120", "warning", "2026-06-11T11:05:00Z", None, None),
    ("police_protection_at_station", "NTH-26-4126", "high", "2026-06-10T17:30:00Z", None, None),
    (
        "police_protection_at_station",
        "NTH-26-4126",
        "critical",
        "2026-06-10T19:30:00Z",
        None,
        "high",
    ),
    (
        "police_protection_limit",
        "NTH-26-4126",
        "warning",
        "2026-06-10T03:15:00Z",
        "2026-06-10T17:30:00Z",
        None,
    ),
    ("police_protection_limit", "NTH-26-4126", "high", "2026-06-10T21:15:00Z", None, "warning"),
    ("police_protection_limit", "NTH-26-4126", "critical", "2026-06-11T03:15:00Z", None, "high"),
    ("appropriate_adult", "NTH-26-4116", "warning", "2026-06-10T14:40:00Z", None, None),
    ("appropriate_adult", "NTH-26-4116", "high", "2026-06-10T16:40:00Z", None, None),
    ("child_overnight", "NTH-26-4103", "warning", "2026-06-10T01:45:00Z", None, None),
    ("child_overnight", "NTH-26-4116", "warning", "2026-06-10T21:00:00Z", None, None),
    ("child_overnight", "NTH-26-4116", "high", "2026-06-10T22:50:00Z", None, "warning"),
    ("child_overnight", "NTH-26-4124", "high", "2026-06-10T21:45:00Z", None, "warning"),
    (
        "age_below_criminal_responsibility",
        "NTH-26-4111",
        "critical",
        "2026-06-10T10:25:00Z",
        None,
        None,
    ),
    ("missing_dob", "NTH-26-4129", "warning", "2026-06-10T18:05:00Z", None, None),
]

# (custody_ref, instant, rules present one second before and gone at the instant)
CLEARS = [
    ("NTH-26-4111", "2026-06-10T11:40:00Z", ["age_below_criminal_responsibility"]),
    ("NTH-26-4106", "2026-06-10T13:35:00Z", ["pace_limit"]),
    ("NTH-26-4116", "2026-06-10T14:55:00Z", ["appropriate_adult"]),
    ("NTH-26-4116", "2026-06-10T17:05:00Z", ["appropriate_adult"]),
    ("NTH-26-4129", "2026-06-10T22:40:00Z", ["missing_dob", "child_overnight"]),
    (
        "NTH-26-4124",
        "2026-06-11T01:10:00Z",
        ["invalid_s38_certificate", "child_overnight", "child_detention_duration"],
    ),
    ("NTH-26-4103", "2026-06-11T01:40:00Z", ["review_overdue"]),
    ("NTH-26-4103", "2026-06-11T03:20:00Z", ["pace_limit"]),
    (
        "NTH-26-4126",
        "2026-06-11T05:20:00Z",
        [
            "police_protection_at_station",
            "police_protection_limit",
            "child_overnight",
            "child_detention_duration",
        ],
    ),
    (
        "NTH-26-4116",
        "2026-06-11T08:15:00Z",
        ["post_charge_transfer", "child_overnight", "child_detention_duration"],
    ),
    (
        "NTH-26-4120",
        "2026-06-11T12:20:00Z",
        [
            "place_of_safety_child",
            "place_of_safety_limit",
            "child_overnight",
            "child_detention_duration",
        ],
    ),
]

V1_RULES = {
    "pace_limit",
    "review_overdue",
    "child_detention_duration",
    "post_charge_transfer",
    "invalid_s38_certificate",
    "place_of_safety_child",
    "place_of_safety_limit",
    "police_protection_at_station",
    "police_protection_limit",
    "appropriate_adult",
    "child_overnight",
    "age_below_criminal_responsibility",
    "missing_dob",
}


def _case_id(case: tuple[str, str, str, str, str | None, str | None]) -> str:
    rule, ref, severity, since, _, _ = case
    return f"{rule}-{ref}-{severity}-{since}"


def test_the_documented_instants_cover_every_v1_rule() -> None:
    assert {case[0] for case in DOCUMENTED} == V1_RULES


@pytest.mark.parametrize("case", DOCUMENTED, ids=_case_id)
def test_each_documented_finding_appears_at_its_instant_and_not_a_second_before(
    evaluate: Evaluate, case: tuple[str, str, str, str, str | None, str | None]
) -> None:
    rule, ref, severity, since, shown_from, before = case
    at = shown_from or since
    now = _finding(evaluate(at), ref, rule)
    assert now is not None, f"{ref} {rule} missing at {at}"
    assert (now["severity"], now["since"]) == (severity, since)
    earlier = _finding(evaluate(_one_second_before(at)), ref, rule)
    if before is None:
        assert earlier is None, f"{ref} {rule} already {earlier} one second before {at}"
    else:
        assert earlier is not None, f"{ref} {rule} missing one second before {at}"
        assert earlier["severity"] == before


@pytest.mark.parametrize("case", CLEARS, ids=lambda c: f"{c[0]}-{c[1]}")
def test_findings_clear_at_the_documented_instant(
    evaluate: Evaluate, case: tuple[str, str, list[str]]
) -> None:
    ref, at, rules = case
    before = evaluate(_one_second_before(at))
    for rule in rules:
        assert _finding(before, ref, rule) is not None, f"{ref} {rule} not active before {at}"
    after = evaluate(at)
    for rule in rules:
        assert _finding(after, ref, rule) is None, f"{ref} {rule} still active at {at}"


def test_the_under_ten_raises_age_below_criminal_responsibility_at_arrival(
    evaluate: Evaluate,
) -> None:
    found = _finding(
        evaluate("2026-06-10T10:25:00Z"), "NTH-26-4111", "age_below_criminal_responsibility"
    )
    assert found is not None
    assert (found["severity"], found["since"]) == ("critical", "2026-06-10T10:25:00Z")


def test_the_police_protection_limit_since_is_before_arrival(evaluate: Evaluate) -> None:
    found = _finding(evaluate("2026-06-10T17:30:00Z"), "NTH-26-4126", "police_protection_limit")
    assert found is not None
    assert found["since"] == "2026-06-10T03:15:00Z"


def test_midnight_gives_exactly_the_documented_list_in_output_order(
    evaluate: Evaluate,
) -> None:
    out = evaluate("2026-06-10T23:00:00Z")
    assert out["at"] == "2026-06-10T23:00:00Z"
    assert _summary(out) == [
        ("critical", "2026-06-10T15:05:00Z", "NTH-26-4120", "place_of_safety_child"),
        ("critical", "2026-06-10T19:30:00Z", "NTH-26-4126", "police_protection_at_station"),
        ("critical", "2026-06-10T22:20:00Z", "NTH-26-4124", "invalid_s38_certificate"),
        ("high", "2026-06-10T17:45:00Z", "NTH-26-4103", "child_detention_duration"),
        ("high", "2026-06-10T21:15:00Z", "NTH-26-4126", "police_protection_limit"),
        ("high", "2026-06-10T21:45:00Z", "NTH-26-4124", "child_overnight"),
        ("high", "2026-06-10T22:50:00Z", "NTH-26-4116", "child_overnight"),
        ("warning", "2026-06-10T01:45:00Z", "NTH-26-4103", "child_overnight"),
        ("warning", "2026-06-10T21:00:00Z", "NTH-26-4120", "child_overnight"),
        ("warning", "2026-06-10T21:00:00Z", "NTH-26-4126", "child_overnight"),
        ("warning", "2026-06-10T21:40:00Z", "NTH-26-4116", "child_detention_duration"),
        ("warning", "2026-06-10T22:40:00Z", "NTH-26-4103", "review_overdue"),
        ("warning", "2026-06-10T22:45:00Z", "NTH-26-4103", "pace_limit"),
        # The v2 rows (README, "The v2 rows"): released at 14:00Z with no referral yet.
        ("info", "2026-06-10T14:00:00Z", "NTH-26-4142", "referral_missing"),
    ]


@pytest.mark.parametrize(
    ("at", "count"),
    # With the v2 rows: 18:00Z adds three v2 findings, the others one (README).
    [("2026-06-10T18:00:00Z", 8), ("2026-06-11T02:00:00Z", 14), ("2026-06-11T06:00:00Z", 7)],
)
def test_the_demonstration_instants_give_the_documented_number_of_findings(
    evaluate: Evaluate, at: str, count: int
) -> None:
    assert len(evaluate(at)["findings"]) == count


def test_adults_give_no_findings_with_the_built_in_scope(evaluate: Evaluate) -> None:
    children = {
        "NTH-26-4103",
        "NTH-26-4106",
        "NTH-26-4111",
        "NTH-26-4116",
        "NTH-26-4120",
        "NTH-26-4124",
        "NTH-26-4126",
        "NTH-26-4129",
        # The v2 rows
        "NTH-26-4141",
        "NTH-26-4142",
        "NTH-26-4143",
        "NTH-26-4144",
        "NTH-26-4145",
        "NTH-26-4146",
        "NTH-26-4147",
    }
    for at in (
        "2026-06-10T03:00:00Z",
        "2026-06-10T11:00:00Z",
        "2026-06-10T18:00:00Z",
        "2026-06-11T08:00:00Z",
    ):
        assert {f["custody_ref"] for f in evaluate(at)["findings"]} <= children


def test_age_is_taken_on_the_london_date_of_arrest_not_the_utc_date(evaluate: Evaluate) -> None:
    # Born 2008-06-10, arrested 00:30 BST on 10 Jun (23:30Z on 9 Jun): 18, so an adult.
    # Read as 17, three hours without an appropriate adult would be a finding.
    for at in ("2026-06-10T01:00:00Z", "2026-06-10T03:00:00Z"):
        assert all(f["custody_ref"] != "NTH-26-4101" for f in evaluate(at)["findings"])


@pytest.mark.parametrize(
    "at",
    [
        "2026-06-10T12:30:00Z",
        "2026-06-10T18:00:00Z",
        "2026-06-10T23:00:00Z",
        "2026-06-11T02:00:00Z",
        "2026-06-11T06:00:00Z",
        "2026-06-11T11:30:00Z",
    ],
)
def test_the_jsonl_copy_gives_the_same_findings_as_the_csv(evaluate: Evaluate, at: str) -> None:
    from_csv, from_jsonl = evaluate(at, CSV), evaluate(at, JSONL)
    assert _summary(from_jsonl) == _summary(from_csv)
    assert [(r["row"], r["custody_ref"]) for r in from_jsonl["rejected"]] == [
        (r["row"], r["custody_ref"]) for r in from_csv["rejected"]
    ]


@pytest.mark.parametrize("records", [CSV, JSONL], ids=["csv", "jsonl"])
def test_the_bad_rows_are_rejected_with_row_number_and_field_name(
    evaluate: Evaluate, records: Path
) -> None:
    rejected = evaluate("2026-06-10T23:00:00Z", records)["rejected"]
    assert [(r["row"], r["custody_ref"]) for r in rejected] == [
        (10, "NTH-26-4109"),
        (20, "NTH-26-4115"),
        (47, "NTH-26-4116"),
    ]
    prefixes = ["arrival_time:", "legal_basis:", "released_time:"]
    for r, prefix in zip(rejected, prefixes, strict=True):
        assert r["error"].startswith(prefix), r["error"]


def test_a_rejected_newer_version_leaves_the_older_version_in_force(evaluate: Evaluate) -> None:
    # Row 47 (released "10 Jun", before arrival) is newer than row 46 but is rejected.
    assert (
        _finding(evaluate("2026-06-11T08:14:59Z"), "NTH-26-4116", "post_charge_transfer")
        is not None
    )
    assert all(
        f["custody_ref"] != "NTH-26-4116" for f in evaluate("2026-06-11T08:15:00Z")["findings"]
    )


# ------------------------------------------------------------------ people = "all"

ADULT_INSTANTS = [
    ("pace_limit", "NTH-26-4071", "warning", "2026-06-10T02:50:00Z", None),
    ("pace_limit", "NTH-26-4071", "warning", "2026-06-10T14:50:00Z", None),
    ("pace_limit", "NTH-26-4071", "high", "2026-06-10T16:50:00Z", "warning"),
    ("pace_limit", "NTH-26-4071", "critical", "2026-06-10T17:50:00Z", "high"),
    ("pace_limit", "NTH-26-4112", "warning", "2026-06-10T10:50:00Z", None),
    ("place_of_safety_limit", "NTH-26-4104", "warning", "2026-06-10T23:20:00Z", None),
    ("review_overdue", "NTH-26-4125", "warning", "2026-06-11T07:15:00Z", None),
    ("review_overdue", "NTH-26-4125", "high", "2026-06-11T07:45:00Z", "warning"),
]

ADULT_CLEARS = [
    ("NTH-26-4071", "2026-06-10T04:30:00Z", "pace_limit"),
    ("NTH-26-4071", "2026-06-10T19:15:00Z", "pace_limit"),
    ("NTH-26-4112", "2026-06-10T12:05:00Z", "pace_limit"),
    ("NTH-26-4104", "2026-06-11T02:50:00Z", "place_of_safety_limit"),
    ("NTH-26-4125", "2026-06-11T08:55:00Z", "review_overdue"),
]


ALL_PEOPLE_TOML = """\
[scope]
people = "all"

[[people]]
id = "insp-1"
name = "Duty Inspector"

[[rota]]
role = "duty_inspector"
person = "insp-1"

[digest]
channels = ["console"]
"""


@pytest.fixture(scope="module")
def all_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Only the scope matters to `evaluate`; the rest makes a config file that passes the
    # reference checks (the built-in escalation notifies the rota role "duty_inspector").
    path = tmp_path_factory.mktemp("config") / "all-people.toml"
    path.write_text(ALL_PEOPLE_TOML, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ADULT_INSTANTS, ids=lambda c: f"{c[0]}-{c[1]}-{c[3]}")
def test_adult_findings_appear_at_their_instants_when_the_scope_is_all(
    evaluate: Evaluate, all_people: Path, case: tuple[str, str, str, str, str | None]
) -> None:
    rule, ref, severity, since, before = case
    now = _finding(evaluate(since, CSV, all_people), ref, rule)
    assert now is not None, f"{ref} {rule} missing at {since}"
    assert (now["severity"], now["since"]) == (severity, since)
    earlier = _finding(evaluate(_one_second_before(since), CSV, all_people), ref, rule)
    assert (earlier and earlier["severity"]) == before


@pytest.mark.parametrize("case", ADULT_CLEARS, ids=lambda c: f"{c[0]}-{c[1]}")
def test_adult_findings_clear_when_extension_charge_or_review_counts(
    evaluate: Evaluate, all_people: Path, case: tuple[str, str, str]
) -> None:
    ref, at, rule = case
    assert _finding(evaluate(_one_second_before(at), CSV, all_people), ref, rule) is not None
    assert _finding(evaluate(at, CSV, all_people), ref, rule) is None


@pytest.mark.parametrize(
    "at", ["2026-06-10T18:00:00Z", "2026-06-10T23:00:00Z", "2026-06-11T08:00:00Z"]
)
def test_the_scope_all_adds_adult_findings_and_keeps_the_child_findings(
    evaluate: Evaluate, all_people: Path, at: str
) -> None:
    children_only = set(_summary(evaluate(at)))
    everyone = set(_summary(evaluate(at, CSV, all_people)))
    assert children_only <= everyone
    assert "NTH-26-4101" not in {ref for _, _, ref, _ in everyone}


# ------------------------------------------------------------------ the files themselves


def test_the_readme_table_lists_exactly_the_documented_instants() -> None:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    section = text.split("## Documented instants", 1)[1].split("### Instants at which", 1)[0]
    rows = [
        [cell.strip().strip("`*") for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    listed = {
        (rule, ref, severity, since, None if shown == "same" else shown)
        for rule, ref, severity, since, shown, *_ in rows
    }
    assert listed == {case[:5] for case in DOCUMENTED}


def test_the_jsonl_file_is_the_csv_converted_by_make_jsonl(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_jsonl", SAMPLE / "make_jsonl.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.convert(CSV, tmp_path / "fresh.jsonl")
    assert (tmp_path / "fresh.jsonl").read_bytes() == JSONL.read_bytes()
