"""``custody-watch evaluate`` on v2 records (RULES.md, "v2 rules"), CSV and JSON Lines, as
the held-back checks run it: exactly these findings and ``since`` times; and a v1 feed gives
exactly the v1 findings."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custody_watch.rules import engine

from .test_evaluate import evaluate_json, write


@pytest.fixture
def clean_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """In-process runs: no default config file and no environment variable."""
    monkeypatch.delenv("CUSTODY_WATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def as_csv(rows: list[dict[str, Any]]) -> str:
    """Every key of any row is a column (so every row carries it); None is an empty cell."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        values = [row.get(name) for name in names]
        writer.writerow(
            ["" if v is None else ";".join(v) if isinstance(v, list) else str(v) for v in values]
        )
    return out.getvalue()


def as_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


H = timedelta(hours=1)
ARRIVAL = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)  # a Wednesday in January, GMT
V1_RULES = (
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
)


def z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def t(hours: float) -> str:
    return z(ARRIVAL + hours * H)


def feed_file(directory: Path, fmt: str, rows: list[dict[str, Any]]) -> Path:
    if fmt == "csv":
        return write(directory / "records.csv", as_csv(rows))
    return write(directory / "records.jsonl", as_jsonl(rows))


def found(out: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(f["custody_ref"], f["rule"], f["severity"], f["since"]) for f in out["findings"]]


# A scenario every v2 rule fires in, as of ARRIVAL + 5h (15:00 GMT).
def scenario(fmt: str) -> list[dict[str, Any]]:
    def boolean(value: bool) -> object:
        return value if fmt == "jsonl" else ("true" if value else "false")

    # Every child's welfare contact told at 10:30 unless a row says otherwise.
    base = {
        "suite": "S1",
        "date_of_birth": "2010-06-01",
        "appropriate_adult_arrived_time": t(0),
        "welfare_person_informed_time": t(0.5),
    }
    return [
        # Looked after: every finding one step higher.
        base
        | {
            "custody_ref": "LA-1",
            "arrival_time": t(0),
            "looked_after": boolean(True),
            "welfare_person_informed_time": None,
            "cell_time": t(0.25),
            "cell_visit_times": [t(0.5), t(0.5)],
        },
        base
        | {
            "custody_ref": "IV-1",
            "arrival_time": t(0),
            "appropriate_adult_arrived_time": t(2),
            "interview_times": [t(1), t(3)],
            "strip_search_times": [t(1.5)],
            "strip_search_urgent": boolean(True),
            "welfare_person_informed_time": t(0.5),
        },
        base
        | {
            "custody_ref": "CT-1",
            "arrival_time": t(0),
            "charged_time": t(1),
            "court_due_time": t(2),
            "adult_in_cell_time": t(4),
            "cell_time": t(0),
            "cell_reason": "no_other_secure_accommodation",
            "cell_visit_times": [t(4.5)],
            "welfare_person_informed_time": t(0.5),
        },
        # repeat_detention: two earlier records of P-9 (one with two versions), and one
        # 90 days and a second before: not counted.
        base | {"custody_ref": "RP-3", "arrival_time": t(0), "person_ref": "P-9"},
        base
        | {
            "custody_ref": "RP-1",
            "arrival_time": z(ARRIVAL - timedelta(days=90)),
            "person_ref": "P-9",
            "released_time": z(ARRIVAL - timedelta(days=90) + H),
            "updated_at": t(-2000),
        },
        base
        | {
            "custody_ref": "RP-1",
            "arrival_time": z(ARRIVAL - timedelta(days=90)),
            "person_ref": "P-9",
            "released_time": z(ARRIVAL - timedelta(days=90) + H),
            "updated_at": t(-1999),
        },
        base
        | {
            "custody_ref": "RP-0",
            "arrival_time": z(ARRIVAL - timedelta(days=90, seconds=1)),
            "person_ref": "P-9",
            "released_time": z(ARRIVAL - timedelta(days=89)),
        },
        base
        | {
            "custody_ref": "RP-2",
            "arrival_time": z(ARRIVAL - timedelta(days=3)),
            "person_ref": "P-9",
            "released_time": z(ARRIVAL - timedelta(days=3) + H),
        },
        # released with no referral; the feed carries the field
        base
        | {
            "custody_ref": "RF-1",
            "arrival_time": t(0),
            "released_time": t(2),
            "social_care_referral_time": None,
        },
        base
        | {
            "custody_ref": "RF-2",
            "arrival_time": t(0),
            "released_time": t(2),
            "social_care_referral_time": t(4),
        },
    ]


# Worked by hand from RULES.md, in the contract's order (severity, since, ref, rule).
EXPECTED_AT_5H = [
    # LA-1 looked after: in a cell at 10:15 with no reason, high raised to critical
    ("LA-1", "child_in_cell", "critical", t(0.25)),
    # IV-1: adult arrived 12:00; the 11:00 interview had none and no urgent authority
    ("IV-1", "interview_without_aa", "critical", t(1)),
    # LA-1: visited 10:30 (listed twice): warning 11:00 -> high, high 11:30 -> critical
    ("LA-1", "cell_visit_overdue", "critical", t(1.5)),
    # LA-1: welfare not told: warning 11:00 -> high, high 13:00 -> critical
    ("LA-1", "welfare_not_informed", "critical", t(3)),
    ("CT-1", "child_with_adult_in_cell", "critical", t(4)),
    # IV-1: strip search 11:30 with urgency recorded
    ("IV-1", "strip_search_without_aa", "high", t(1.5)),
    # CT-1: charged 11:00, court sitting 12:00 (critical only at 16:00)
    ("CT-1", "court_production_overdue", "high", t(2)),
    # RP-3: RP-1 (two versions, exactly 90 days before) and RP-2; RP-0 a second too early
    ("RP-3", "repeat_detention", "warning", t(0)),
    # CT-1: visited 14:30, next due 15:00: reached exactly now
    ("CT-1", "cell_visit_overdue", "warning", t(5)),
    # RF-1: released 12:00, no referral (RF-2's referral at 14:00 has cleared it)
    ("RF-1", "referral_missing", "info", t(2)),
]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_v2_scenario_gives_exactly_the_expected_findings(clean_cwd: Path, fmt: str) -> None:
    out = evaluate_json(feed_file(clean_cwd, fmt, scenario(fmt)), t(5))
    assert out["rejected"] == []
    assert found(out) == EXPECTED_AT_5H


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_scenario_a_second_earlier_and_later(clean_cwd: Path, fmt: str) -> None:
    path = feed_file(clean_cwd, fmt, scenario(fmt))
    before = found(evaluate_json(path, z(ARRIVAL + 4 * H - timedelta(seconds=1))))
    assert ("CT-1", "child_with_adult_in_cell", "critical", t(4)) not in before
    assert ("CT-1", "court_production_overdue", "high", t(2)) in before
    # referral_missing ends 72h after release; RF-2's referral at 14:00 cleared it then
    late = found(evaluate_json(path, z(ARRIVAL + 74 * H - timedelta(seconds=1))))
    assert ("RF-1", "referral_missing", "info", t(2)) in late
    assert not [f for f in late if f[0] == "RF-2"]
    assert ("RF-2", "referral_missing", "info", t(2)) in found(evaluate_json(path, t(3)))
    assert not [f for f in found(evaluate_json(path, t(74))) if f[1] == "referral_missing"]


def test_a_csv_without_the_welfare_or_referral_column_raises_neither(clean_cwd: Path) -> None:
    header = (
        "custody_ref,suite,arrival_time,date_of_birth,appropriate_adult_arrived_time,released_time"
    )
    text = f"{header}\nA,S1,{t(0)},2010-06-01,{t(0)},\nB,S1,{t(0)},2010-06-01,{t(0)},{t(1)}\n"
    out = evaluate_json(write(clean_cwd / "v1.csv", text), t(5))
    assert {f["rule"] for f in out["findings"]} <= set(V1_RULES)
    with_columns = text.replace(
        header, header + ",welfare_person_informed_time,social_care_referral_time"
    )
    with_columns = with_columns.replace(f"{t(0)},\n", f"{t(0)},,,\n").replace(
        f"{t(1)}\n", f"{t(1)},,\n"
    )
    out = evaluate_json(write(clean_cwd / "v2.csv", with_columns), t(5))
    assert {(f["custody_ref"], f["rule"]) for f in out["findings"]} >= {
        ("A", "welfare_not_informed"),
        ("B", "referral_missing"),
    }


def test_a_rejected_row_and_the_record_itself_do_not_count_as_repeats(clean_cwd: Path) -> None:
    rows = [
        {"custody_ref": "R-3", "suite": "S1", "arrival_time": t(0), "person_ref": "P"},
        {"custody_ref": "R-1", "suite": "S1", "arrival_time": t(-48), "person_ref": "P"},
        {"custody_ref": "R-2", "suite": "S1", "arrival_time": "bad", "person_ref": "P"},
        {"custody_ref": "R-3", "suite": "S1", "arrival_time": t(0), "person_ref": "P"},
    ]
    out = evaluate_json(feed_file(clean_cwd, "jsonl", rows), t(1))
    assert [f for f in out["findings"] if f["rule"] == "repeat_detention"] == []
    assert [r["row"] for r in out["rejected"]] == [3]
    # a person_ref is matched exactly as given: "p" is someone else
    rows.append({"custody_ref": "R-4", "suite": "S1", "arrival_time": t(-24), "person_ref": "P"})
    rows.append({"custody_ref": "R-5", "suite": "S1", "arrival_time": t(-24), "person_ref": "p"})
    out = evaluate_json(feed_file(clean_cwd, "jsonl", rows), t(1))
    assert [
        (f["custody_ref"], f["since"]) for f in out["findings"] if f["rule"] == "repeat_detention"
    ] == [("R-3", t(0))]


# --- a v1 feed gives exactly the v1 findings --------------------------------------------------


def random_v1_rows(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        arrival = ARRIVAL + rng.randrange(0, 48 * 60) * timedelta(minutes=1)
        row: dict[str, Any] = {
            "custody_ref": f"V-{n}",
            "suite": rng.choice(["S1", "S2"]),
            "arrival_time": z(arrival),
            # Never the same person twice: repeat_detention reads person_ref, a v1 field,
            # and would rightly fire on a v1 feed that repeats one (RULES.md, v2).
            "person_ref": rng.choice([f"P-{n}", None]),
            "date_of_birth": rng.choice(["2010-06-01", "2016-01-01", "1990-01-01", None]),
            "legal_basis": rng.choice(
                ["pace_arrest", "bail_return", "mha_s136", "police_protection", None]
            ),
        }
        for name, chance in [
            ("appropriate_adult_arrived_time", 0.5),
            ("charged_time", 0.3),
            ("bail_refused_time", 0.2),
            ("released_time", 0.5),
        ]:
            if rng.random() < chance:
                row[name] = z(arrival + rng.randrange(0, 40 * 60) * timedelta(minutes=1))
        if rng.random() < 0.4:
            row["reviews"] = [z(arrival + rng.randrange(0, 30) * H) for _ in range(2)]
        rows.append(row)
    return rows


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_v1_feed_gives_exactly_the_v1_findings(
    clean_cwd: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, seed: int
) -> None:
    path = feed_file(clean_cwd, fmt, random_v1_rows(seed, 60))
    instants = [t(hours) for hours in (1, 7, 13, 23, 30, 47, 60, 90)]
    with_v2 = {at: evaluate_json(path, at) for at in instants}
    v1_only = tuple(rule for rule in engine.RULES if rule.id in V1_RULES)
    monkeypatch.setattr(engine, "RULES", v1_only)
    for at in instants:
        assert with_v2[at] == evaluate_json(path, at), at
    assert any(out["findings"] for out in with_v2.values())
