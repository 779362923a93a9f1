"""A plain reading of the v1 rules over a feed file: the yardstick for ``evaluate``'s speed.

    python bench/reference_evaluate.py FILE.csv|FILE.jsonl --at 2026-06-20T12:00:00Z

What a careful person would write in an afternoon from RULES.md and custody-record.md:
``csv.DictReader`` (or ``json.loads`` a line at a time), every non-empty time read with
``datetime.fromisoformat``, the latest version of each custody_ref kept in a dict, then
each rule checked per record in turn, findings sorted and printed as JSON. Single process,
no indexing beyond that dict, the standard library only. It checks rows only as far as
reading them needs (a row it cannot read is rejected with the error), not every rejection
reason of the contract, and its ``detail`` is short: it is for timing, not for use.
Issue 15 asks ``custody-watch evaluate`` for at most 0.6 of its wall time over 100,000
records (bench/run.py, figure ``evaluate``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
PACE = {"pace_arrest", "bail_return", "warrant"}
SAFETY = {"mha_s136", "mha_s135"}
RANK = {"info": 0, "warning": 1, "high": 2, "critical": 3}
LISTS = {"reviews"}


def instant(text: str) -> datetime:
    at = datetime.fromisoformat(text.strip().upper())
    if at.tzinfo is None:
        raise ValueError(f"no UTC offset in {text!r}")
    if not 1800 <= at.year <= 9000:
        raise ValueError(f"{text!r} is outside the years 1800-9000")
    return at.astimezone(UTC)


def read_row(raw: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in raw.items():
        if name is None or value is None or value == "" or value == []:
            continue
        if name in LISTS:
            parts = value.split(";") if isinstance(value, str) else value
            row[name] = sorted(instant(p) for p in parts if p.strip())
        elif name.endswith(("_time", "_until", "_at", "_start")):
            row[name] = instant(value)
        elif name == "date_of_birth":
            row[name] = date.fromisoformat(value.strip())
        elif name == "prior_detention_minutes":
            row[name] = int(value)
        else:
            row[name] = value.strip() if isinstance(value, str) else value
    for name in ("custody_ref", "suite", "arrival_time"):
        if name not in row:
            raise ValueError(f"{name}: required field missing")
    return row


def rows_of(path: str) -> Any:
    with open(path, encoding="utf-8-sig", newline="") as f:
        if path.lower().endswith(".csv"):
            yield from csv.DictReader(f)
        else:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def ladder(steps: list[tuple[str, datetime]], now: datetime) -> tuple[str, datetime] | None:
    reached = [(s, t) for s, t in steps if t <= now]
    if not reached:
        return None
    top = max(RANK[s] for s, _ in reached)
    return next((s, t) for s, t in reached if RANK[s] == top)


def findings_of(d: dict[str, Any], now: datetime) -> list[tuple[str, str, datetime]]:
    def reached(name: str) -> bool:
        return name in d and d[name] <= now

    arrival = d["arrival_time"]
    if arrival > now or reached("released_time"):
        return []
    start = d.get("arrest_time", arrival).astimezone(LONDON).date()
    born = d.get("date_of_birth")
    age = (
        None
        if born is None
        else start.year - born.year - ((start.month, start.day) < (born.month, born.day))
    )
    child = age is None or age < 18
    if not child:
        return []
    basis = d.get("legal_basis", "pace_arrest")
    out: list[tuple[str, tuple[str, datetime] | None]] = []
    if basis in PACE and not reached("charged_time"):
        if "relevant_time" in d:
            rt = d["relevant_time"]
        elif "arrest_time" in d:
            rt = min(arrival, d["arrest_time"] + 24 * H)
        else:
            rt = arrival
        served = timedelta(minutes=d.get("prior_detention_minutes", 0))
        if "warrant_until" in d and (("warrant_time" not in d) or reached("warrant_time")):
            limit = min(d["warrant_until"], rt + 96 * H - served)
        elif "superintendent_extension_until" in d and (
            "superintendent_extension_time" not in d or reached("superintendent_extension_time")
        ):
            limit = min(d["superintendent_extension_until"], rt + 36 * H - served)
        else:
            limit = rt + 24 * H - served
        out.append(
            (
                "pace_limit",
                ladder([("warning", limit - 3 * H), ("high", limit - H), ("critical", limit)], now),
            )
        )
    if basis in PACE:
        done = [r for r in d.get("reviews", []) if r <= now]
        due = max(done) + 9 * H if done else d.get("detention_authorised_time", arrival) + 6 * H
        out.append(
            (
                "review_overdue",
                ladder([("warning", due - 0.5 * H), ("high", due), ("critical", due + 2 * H)], now),
            )
        )
    out.append(
        (
            "child_detention_duration",
            ladder(
                [
                    ("warning", arrival + 8 * H),
                    ("high", arrival + 16 * H),
                    ("critical", arrival + 24 * H),
                ],
                now,
            ),
        )
    )
    if reached("bail_refused_time") and not reached("s38_certificate_time"):
        refused = d["bail_refused_time"]
        steps = [] if reached("la_accommodation_requested_time") else [("high", refused + H)]
        out.append(("post_charge_transfer", ladder([*steps, ("critical", refused + 4 * H)], now)))
    if (
        "s38_certificate_time" in d
        and d.get("s38_certificate_ground") == "no_secure_accommodation"
        and age is not None
        and age < 12
    ):
        out.append(
            ("invalid_s38_certificate", ladder([("critical", d["s38_certificate_time"])], now))
        )
    if basis in SAFETY:
        out.append(("place_of_safety_child", ladder([("critical", arrival)], now)))
        limit = arrival + 24 * H
        if "mha_extension_until" in d and (
            "mha_extension_time" not in d or reached("mha_extension_time")
        ):
            limit = min(d["mha_extension_until"], arrival + 36 * H)
        out.append(
            (
                "place_of_safety_limit",
                ladder([("warning", limit - 4 * H), ("critical", limit)], now),
            )
        )
    if basis == "police_protection":
        out.append(
            (
                "police_protection_at_station",
                ladder([("high", arrival), ("critical", arrival + 2 * H)], now),
            )
        )
        start_pp = d.get("police_protection_start", arrival)
        out.append(
            (
                "police_protection_limit",
                ladder(
                    [
                        ("warning", start_pp + 48 * H),
                        ("high", start_pp + 66 * H),
                        ("critical", start_pp + 72 * H),
                    ],
                    now,
                ),
            )
        )
    if basis != "police_protection" and not reached("appropriate_adult_arrived_time"):
        steps = [] if reached("appropriate_adult_requested_time") else [("warning", arrival + H)]
        out.append(("appropriate_adult", ladder([*steps, ("high", arrival + 3 * H)], now)))
    local = arrival.astimezone(LONDON)
    if local.hour >= 22 or local.hour < 7:
        first = arrival
    else:
        first = datetime.combine(
            local.date(), datetime.min.time().replace(hour=22), LONDON
        ).astimezone(UTC)
    steps = [("warning", first)]
    if reached("bail_refused_time"):
        steps.append(("high", max(first, d["bail_refused_time"])))
    out.append(("child_overnight", ladder(steps, now)))
    if basis in PACE and age is not None and age < 10:
        out.append(("age_below_criminal_responsibility", ladder([("critical", arrival)], now)))
    if born is None:
        out.append(("missing_dob", ladder([("warning", arrival)], now)))
    return [(rule, step[0], step[1]) for rule, step in out if step is not None]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--at", required=True)
    args = p.parse_args(argv)
    now = instant(args.at)
    latest: dict[str, tuple[tuple[bool, datetime | None, int], dict[str, Any]]] = {}
    rejected = []
    for number, raw in enumerate(rows_of(args.file), 1):
        try:
            row = read_row(raw)
        except (ValueError, TypeError, AttributeError) as exc:
            rejected.append(
                {"row": number, "custody_ref": raw.get("custody_ref"), "error": str(exc)}
            )
            continue
        updated = row.get("updated_at")
        key = (updated is not None, updated or now, number)
        ref = row["custody_ref"]
        if ref not in latest or latest[ref][0] <= key:
            latest[ref] = (key, row)
    findings = []
    for _, d in latest.values():
        for rule, severity, since in findings_of(d, now):
            findings.append((-RANK[severity], since, d["custody_ref"], rule, severity))
    findings.sort()
    out = {
        "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "findings": [
            {
                "custody_ref": ref,
                "rule": rule,
                "severity": severity,
                "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for _, since, ref, rule, severity in findings
        ],
        "rejected": rejected,
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
