"""Write N synthetic custody records in the interchange format (shared/spec/custody-record.md).

    python bench/make_records.py --count 100000 --out /tmp/records.csv --seed 1

The mix follows shared/domain/SOURCES.md section 3. About 6.4% of detentions are children, with
and without a date of birth, mostly aged 16-17, and a few rare under-10s. Child stays are
lognormal (median 9 h, p90 about 17 h). Appropriate adults arrive a median of 60 min after the
child. There are 43 forces with several suites each, about 1,500 detentions a day, reviews
(now and then late), extensions and charges. About 10% of detentions also have an earlier
version, and about 0.5% of rows are bad. With that median, over half of the children are held
overnight, more than the 25-33% reported. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
H, MIN = timedelta(hours=1), timedelta(minutes=1)
FIELDS = (
    "custody_ref", "force", "suite", "person_ref", "date_of_birth", "legal_basis", "arrest_time",
    "arrival_time", "relevant_time", "detention_authorised_time", "prior_detention_minutes",
    "reviews", "superintendent_extension_time", "superintendent_extension_until", "warrant_time",
    "warrant_until", "mha_extension_time", "mha_extension_until", "police_protection_start",
    "charged_time", "bail_refused_time", "la_accommodation_requested_time",
    "s38_certificate_time", "s38_certificate_ground", "appropriate_adult_requested_time",
    "appropriate_adult_arrived_time", "released_time", "release_reason", "updated_at",
)  # fmt: skip
# The 43 territorial forces of England and Wales, with a rough count of custody suites.
FORCES = {
    "AVS": 5, "BDS": 2, "CAM": 3, "CHS": 4, "COL": 1, "CLE": 2, "CUM": 3, "DER": 4, "DCP": 7,
    "DOR": 3, "DUR": 2, "DYP": 4, "ESX": 6, "GLO": 2, "GMP": 10, "GWT": 2, "HAM": 6, "HRT": 3,
    "HUM": 4, "KNT": 7, "LAN": 6, "LEI": 3, "LIN": 2, "MER": 5, "MPS": 22, "NFK": 4, "NWP": 4,
    "NYP": 3, "NTH": 2, "NBR": 5, "NOT": 3, "SWP": 5, "SYP": 4, "STF": 3, "SFK": 3, "SRY": 3,
    "SXP": 6, "TVP": 8, "WAR": 2, "WMC": 5, "WMP": 8, "WYP": 7, "WIL": 2,
}  # fmt: skip
SUITES = [(force, f"{force}-CUS{i}") for force, n in FORCES.items() for i in range(1, n + 1)]
HOURS, PACE = list(range(24)), ("pace_arrest", "bail_return", "warrant")
# Arrivals by local hour: adults mostly from midday to midnight, children more by day.
ADULT_HOURS = list(accumulate([4, 3, 2, 2, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7,
                               6, 6, 5]))  # fmt: skip
CHILD_HOURS = list(accumulate([1, 1, 1, .5, .5, .5, 1, 3, 6, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 3, 2,
                               2, 1, 1]))  # fmt: skip
BASES = ("pace_arrest", "bail_return", "warrant", "mha_s136", "mha_s135", "police_protection",
         "other")  # fmt: skip
BASIS_CUM = list(accumulate([84.0, 8.0, 6.0, 0.6, 0.05, 0.15, 1.2]))
CHILD_AGES, CHILD_AGE_CUM = range(10, 18), list(accumulate([0.3, 0.7, 2.5, 4.5, 10, 14, 28, 40]))
DAILY_DETENTIONS = 1500  # about 546,000 a year in England and Wales


def ts(t: datetime) -> str:
    return t.astimezone(LONDON).isoformat(timespec="seconds")


def years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return date(on.year - years, 2, 28)


class Generator:
    def __init__(self, seed: int | None, start: date, count: int) -> None:
        self.rng = random.Random(seed)
        self.start = datetime(start.year, start.month, start.day, tzinfo=LONDON)
        self.days = max(1, math.ceil(count / DAILY_DETENTIONS))
        self.horizon = self.start + timedelta(days=self.days)
        self.serial = 0

    def lognormal(self, median: timedelta, sigma: float) -> timedelta:
        return median * self.rng.lognormvariate(0.0, sigma)

    def detention(self) -> dict[str, Any]:
        rng = self.rng
        force, suite = rng.choice(SUITES)
        basis = rng.choices(BASES, cum_weights=BASIS_CUM)[0]
        if basis == "police_protection":
            child = True
        elif basis.startswith("mha"):
            child = rng.random() < 0.01  # should be none: rare injected violations
        else:
            child = rng.random() < 0.059
        day = self.start + timedelta(days=rng.randrange(self.days))
        hour = rng.choices(HOURS, cum_weights=CHILD_HOURS if child else ADULT_HOURS)[0]
        local = day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        arrival = local.astimezone(UTC)
        if child:
            age = rng.choices(CHILD_AGES, cum_weights=CHILD_AGE_CUM)[0]
            age = rng.choice((8, 9)) if rng.random() < 0.002 else age
            stay = self.lognormal(9 * H, 0.5)
        else:
            age = min(18 + int(rng.expovariate(1 / 14)), 88)
            median, sigma = (10 * H, 0.5) if basis.startswith("mha") else (6 * H, 0.75)
            stay = self.lognormal(median, sigma)
        self.serial += 1
        r: dict[str, Any] = {
            "custody_ref": f"{suite}-{local.month:02d}{local.day:02d}-{self.serial:07d}",
            "force": force,
            "suite": suite,
            "person_ref": f"P-{rng.getrandbits(40):010x}",
            "legal_basis": basis,
            "arrival_time": arrival,
        }
        if rng.random() > (0.05 if child else 0.004):
            lo, hi = years_before(local.date(), age + 1), years_before(local.date(), age)
            r["date_of_birth"] = (lo + timedelta(days=rng.randint(1, (hi - lo).days))).isoformat()
        if basis in ("pace_arrest", "warrant", "mha_s136"):
            r["arrest_time"] = arrival - self.lognormal(30 * MIN, 0.6)
        if basis == "police_protection" and rng.random() < 0.5:
            r["police_protection_start"] = arrival - rng.uniform(0.5, 60) * H
        end = arrival + max(stay, 20 * MIN)
        if basis in PACE:
            self.pace(r, arrival, end, child)
        elif basis.startswith("mha") and end - arrival > 24 * H:
            r["mha_extension_time"] = arrival + rng.uniform(20, 23.8) * H
            r["mha_extension_until"] = arrival + 36 * H
        if child and basis != "police_protection":
            asked = arrival + self.lognormal(15 * MIN, 0.8)
            r["appropriate_adult_requested_time"] = asked
            r["appropriate_adult_arrived_time"] = asked + self.lognormal(45 * MIN, 0.8)
        r = self.as_of(r, min(end, self.horizon))
        if end <= self.horizon:
            r["released_time"] = end
            r["release_reason"] = self.reason(r, basis, child)
        return r

    def pace(self, r: dict[str, Any], arrival: datetime, end: datetime, child: bool) -> None:
        rng = self.rng
        auth = arrival + rng.uniform(5, 35) * MIN
        r["detention_authorised_time"] = auth
        if r["legal_basis"] == "bail_return":
            r["prior_detention_minutes"] = rng.randrange(30, 1300)
        reviews, due = [], auth + 6 * H
        while (review := due - rng.uniform(-0.4, 1.5) * H) < end:  # now and then a little late
            reviews.append(review)
            due = review + 9 * H
        r["reviews"] = reviews
        if end - arrival > 24 * H:
            r["superintendent_extension_time"] = arrival + rng.uniform(18, 23.9) * H
            r["superintendent_extension_until"] = arrival + 36 * H
        if end - arrival > 36 * H:
            r["warrant_time"] = arrival + rng.uniform(30, 35.9) * H
            r["warrant_until"] = arrival + rng.uniform(48, 96) * H
        if rng.random() < 0.3:
            r["charged_time"] = max(end - rng.uniform(15, 120) * MIN, auth)
            if rng.random() < (0.12 if child else 0.18):
                refused = r["bail_refused_time"] = r["charged_time"] + rng.uniform(5, 30) * MIN
                if child and rng.random() < 0.6:
                    r["la_accommodation_requested_time"] = refused + self.lognormal(45 * MIN, 0.8)
                if child and rng.random() < 0.3:
                    r["s38_certificate_time"] = refused + self.lognormal(90 * MIN, 0.6)
                    r["s38_certificate_ground"] = rng.choice(
                        ("impracticable", "impracticable", "no_secure_accommodation")
                    )

    def reason(self, r: dict[str, Any], basis: str, child: bool) -> str:
        if "bail_refused_time" in r:
            return "transferred_la" if child and self.rng.random() < 0.5 else "court"
        if basis.startswith("mha") or basis == "police_protection":
            return "hospital" if basis.startswith("mha") else "transferred_la"
        if "charged_time" in r:
            return "bailed"
        return self.rng.choices(("released", "bailed", "court", "other"), (70, 22, 6, 2))[0]

    def as_of(self, r: dict[str, Any], cut: datetime) -> dict[str, Any]:
        """The record as it stood at `cut`: no event after it, updated soon after."""
        kept = {k: v for k, v in r.items() if not (isinstance(v, datetime) and v > cut)}
        kept.update(
            (k, v) for k, v in r.items() if k.endswith("_until") and f"{k[:-6]}_time" in kept
        )
        if "s38_certificate_time" not in kept:
            kept.pop("s38_certificate_ground", None)
        kept["reviews"] = [t for t in r.get("reviews", ()) if t <= cut]
        kept["updated_at"] = cut + self.rng.uniform(0.5, 15) * MIN
        if "released_time" not in kept:
            kept.pop("release_reason", None)
        return kept

    def spoil(self, r: dict[str, Any]) -> dict[str, Any]:
        """One of the reasons a row is rejected (custody-record.md, "Rejected rows")."""
        bad, rng = dict(r), self.rng
        kind = rng.randrange(5)
        if kind == 0:
            bad["arrival_time"] = r["arrival_time"].astimezone(LONDON).replace(tzinfo=None)
        elif kind == 1:
            bad["legal_basis"] = rng.choice(("s136", "PACE_ARREST", "arrest"))
        elif kind == 2:
            bad["released_time"] = r["arrival_time"] - rng.uniform(1, 24) * H
        elif kind == 3:
            bad["prior_detention_minutes"] = rng.choice(("-30", "90.5", "2h"))
        else:
            bad["date_of_birth"] = rng.choice(("10/06/2009", "2009-13-01", "unknown"))
        return bad

    def rows(self, count: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < count:
            r = self.detention()
            # An earlier version: written a little after arrival, before any release.
            cut = r["arrival_time"] + self.rng.uniform(10, 90) * MIN
            if self.rng.random() < 0.005:
                out.append(self.spoil(r))
            elif (
                self.rng.random() < 0.1
                and len(out) + 1 < count
                and cut + 30 * MIN < r["updated_at"]
            ):
                older = self.as_of(r, cut)
                out += [older, r] if self.rng.random() < 0.8 else [r, older]
            else:
                out.append(r)
        return out


def text(value: object) -> Any:
    """A field as written: London time with offset (a naive time as it is), reviews a list."""
    if isinstance(value, datetime):
        return ts(value) if value.tzinfo else value.isoformat(timespec="seconds")
    if isinstance(value, list):
        return [ts(t) for t in value]
    return value


def write(rows: list[dict[str, Any]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as f:
        if out.suffix.lower() == ".csv":
            w = csv.writer(f, lineterminator="\n")
            w.writerow(FIELDS)
            for r in rows:
                cells = {k: text(v) for k, v in r.items()}
                if "reviews" in cells:
                    cells["reviews"] = ";".join(cells["reviews"])
                w.writerow([cells.get(k, "") for k in FIELDS])
        else:
            for r in rows:
                obj = {k: text(v) for k, v in r.items() if v != []}
                f.write(json.dumps(obj) + "\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Write synthetic custody records (bench input).")
    p.add_argument("--count", type=int, default=100_000, help="rows to write (default 100000)")
    p.add_argument("--out", type=Path, required=True, help="output file, .csv or .jsonl")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    p.add_argument("--start", type=date.fromisoformat, default=date(2026, 6, 1),
                   help="first day of arrivals, YYYY-MM-DD (default 2026-06-01)")  # fmt: skip
    args = p.parse_args(argv)
    if args.out.suffix.lower() not in (".csv", ".jsonl"):
        p.error("--out must end in .csv or .jsonl")
    write(Generator(args.seed, args.start, args.count).rows(args.count), args.out)
    print(f"wrote {args.count} rows to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
