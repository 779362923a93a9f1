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


# --- seeded random v2 records against an oracle written from RULES.md alone --------------------

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
RANKS = {"info": 0, "warning": 1, "high": 2, "critical": 3}
UP = {"info": "info", "warning": "high", "high": "critical", "critical": "critical"}
M = timedelta(minutes=1)


def random_v2_rows(
    rng: random.Random, count: int, carry: tuple[bool, bool]
) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        arrival = ARRIVAL + rng.randrange(-200 * 24 * 60, 24 * 60) * M

        def at(low_h: float = -1, high_h: float = 30, arrival: datetime = arrival) -> datetime:
            return arrival + rng.randrange(int(low_h * 60), int(high_h * 60)) * M

        def maybe(chance: float, low_h: float = -1, high_h: float = 30) -> str | None:
            return z(at(low_h, high_h)) if rng.random() < chance else None

        def times(chance: float) -> list[str]:
            picked = (
                [z(at(0, 30)) for _ in range(rng.randrange(1, 4))] if rng.random() < chance else []
            )
            return picked + picked[:1] if picked and rng.random() < 0.3 else picked  # a repeat

        row: dict[str, Any] = {
            "custody_ref": f"X-{n}",
            "suite": "S1",
            "arrival_time": z(arrival),
            "date_of_birth": rng.choice(["2010-06-01", "2010-06-01", "1990-01-01", None]),
            "legal_basis": rng.choice(["pace_arrest", "warrant", "police_protection", "mha_s136"]),
            "person_ref": rng.choice(["P-0", "P-1", "P-2", "P-3", None]),
            "looked_after": rng.random() < 0.3,
            "appropriate_adult_arrived_time": maybe(0.6, 0, 6),
            "interview_times": times(0.4),
            "urgent_interview_authorised_time": maybe(0.2, 0, 6),
            "strip_search_times": times(0.2),
            "strip_search_urgent": rng.random() < 0.3,
            "cell_time": maybe(0.5, 0, 4),
            "cell_reason": rng.choice([None, None, "more_comfortable"]),
            "adult_in_cell_time": maybe(0.1, 0, 10),
            "cell_visit_times": times(0.5),
            "charged_time": maybe(0.4, 0, 10),
            "court_due_time": maybe(0.4, 5, 30),
            "released_time": maybe(0.5, 0, 40),
        }
        if carry[0]:
            row["welfare_person_informed_time"] = maybe(0.5, 0, 5)
        if carry[1]:
            row["social_care_referral_time"] = maybe(0.3, 0, 60)
        rows.append(row)
    return rows


def parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def oracle(rows: list[dict[str, Any]], now: datetime) -> set[tuple[str, str, str, str]]:
    """The v2 findings, worked straight from the table in RULES.md."""
    out = set()
    for r in rows:
        arrival = parse(r["arrival_time"])
        assert arrival is not None
        released = parse(r["released_time"])
        child = r["date_of_birth"] != "1990-01-01"
        if not child:
            continue

        def reached(text: str | None) -> bool:
            value = parse(text)
            return value is not None and value <= now

        def report(rule: str, steps: list[tuple[str, datetime]], r: dict[str, Any] = r) -> None:
            raise_ = r["looked_after"] and rule != "referral_missing"
            done = [(UP[s] if raise_ else s, at) for s, at in steps if at <= now]
            if done:
                top = max((s for s, _ in done), key=RANKS.__getitem__)
                since = min(at for s, at in done if s == top)
                out.add((r["custody_ref"], rule, top, z(since)))

        adult_came = parse(r["appropriate_adult_arrived_time"])
        in_custody = arrival <= now and not reached(r["released_time"])
        if in_custody:
            if "welfare_person_informed_time" in r and not reached(
                r["welfare_person_informed_time"]
            ):
                report(
                    "welfare_not_informed", [("warning", arrival + H), ("high", arrival + 3 * H)]
                )
            if r["legal_basis"] in ("pace_arrest", "bail_return", "warrant"):
                alone = sorted(
                    {
                        i
                        for i in map(parse, r["interview_times"])
                        if i and i <= now and not (adult_came and adult_came <= i)
                    }
                )
                urgent = parse(r["urgent_interview_authorised_time"])
                uncovered = [i for i in alone if not (urgent and urgent <= i)]
                if uncovered:
                    report("interview_without_aa", [("critical", uncovered[0])])
                elif alone:
                    report("interview_without_aa", [("high", alone[0])])
            searched = sorted(
                {
                    s
                    for s in map(parse, r["strip_search_times"])
                    if s and s <= now and not (adult_came and adult_came <= s)
                }
            )
            if searched:
                report(
                    "strip_search_without_aa",
                    [("high" if r["strip_search_urgent"] else "critical", searched[0])],
                )
            cell = parse(r["cell_time"])
            if cell and cell <= now:
                if r["cell_reason"] is None:
                    report("child_in_cell", [("high", cell)])
                visits = [v for v in map(parse, r["cell_visit_times"]) if v and cell <= v <= now]
                due = (max(visits) if visits else cell) + 30 * M
                report("cell_visit_overdue", [("warning", due), ("high", due + 30 * M)])
            if reached(r["adult_in_cell_time"]):
                report("child_with_adult_in_cell", [("critical", parse(r["adult_in_cell_time"]))])
            court = parse(r["court_due_time"])
            if court and reached(r["charged_time"]):
                report("court_production_overdue", [("high", court), ("critical", court + 4 * H)])
            if r["person_ref"] is not None:
                others = [
                    o
                    for o in rows
                    if o is not r
                    and o["person_ref"] == r["person_ref"]
                    and arrival - timedelta(days=90) <= parse(o["arrival_time"]) < arrival  # type: ignore[operator]
                ]
                if len(others) >= 2:
                    report("repeat_detention", [("warning", arrival)])
        elif (
            released is not None
            and released <= now < released + 72 * H
            and "social_care_referral_time" in r
            and not reached(r["social_care_referral_time"])
        ):
            report("referral_missing", [("info", released)])
    return out


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_seeded_random_v2_records_give_exactly_the_oracles_findings(
    clean_cwd: Path, fmt: str, seed: int
) -> None:
    rng = random.Random(seed)
    carry = (rng.random() < 0.7, rng.random() < 0.7)
    rows = random_v2_rows(rng, 80, carry)
    written = (
        [
            row | {k: ("true" if v else "false") for k, v in row.items() if isinstance(v, bool)}
            for row in rows
        ]
        if fmt == "csv"
        else rows
    )
    path = feed_file(clean_cwd, fmt, written)
    checked = 0
    for hours in (-100 * 24, -30, 1, 3, 6, 12, 20, 30, 50, 80):
        now = ARRIVAL + hours * H + rng.randrange(0, 60) * M
        out = evaluate_json(path, z(now))
        assert out["rejected"] == []
        got = {f for f in found(out) if f[1] in V2_RULES}
        assert got == oracle(rows, now), z(now)
        checked += len(got)
    assert checked > 0
