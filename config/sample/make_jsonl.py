"""Regenerate suite-day.jsonl from suite-day.csv (same rows, same order).

Usage: python config/sample/make_jsonl.py

Empty cells are left out, except an empty `released_time`, which is written as null (both
mean "absent"); `reviews` and the v2 lists (`interview_times`, `strip_search_times`,
`cell_visit_times`) become lists; `true`/`false` in `looked_after` and `strip_search_urgent`
become JSON booleans; a `prior_detention_minutes` made of digits becomes a number. An empty
`welfare_person_informed_time` or `social_care_referral_time` is written as null, not left
out: the CSV's header carries those columns for every row, and a rule that fires on their
absence applies only where the feed carries the field (RULES.md, Precise reading 15), so the
JSON rows must carry the key too. Values are copied as they are otherwise, bad rows included,
so both files give the same findings and the same rejected rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
LISTS = ("reviews", "interview_times", "strip_search_times", "cell_visit_times")
BOOLEANS = ("looked_after", "strip_search_urgent")
KEPT_EMPTY = ("released_time", "welfare_person_informed_time", "social_care_referral_time")


def convert(src: Path, dst: Path) -> int:
    lines: list[str] = []
    with src.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            obj: dict[str, object] = {}
            for key, raw in row.items():
                value = (raw or "").strip()
                if key in LISTS:
                    if value:
                        obj[key] = [v.strip() for v in value.split(";") if v.strip()]
                elif key == "prior_detention_minutes" and value.isdigit():
                    obj[key] = int(value)
                elif key in BOOLEANS and value in ("true", "false"):
                    obj[key] = value == "true"
                elif value:
                    obj[key] = value
                elif key in KEPT_EMPTY:
                    obj[key] = None
            lines.append(json.dumps(obj, ensure_ascii=False))
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    n = convert(HERE / "suite-day.csv", HERE / "suite-day.jsonl")
    print(f"wrote {n} rows to {HERE / 'suite-day.jsonl'}")
