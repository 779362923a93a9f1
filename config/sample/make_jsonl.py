"""Regenerate suite-day.jsonl from suite-day.csv (same rows, same order).

Usage: python config/sample/make_jsonl.py

Empty cells are left out, except an empty `released_time`, which is written as null (both
mean "absent"); `reviews` becomes a list; a `prior_detention_minutes` made of digits becomes a
number. Values are copied as they are otherwise, bad rows included, so both files give the
same findings and the same rejected rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def convert(src: Path, dst: Path) -> int:
    lines: list[str] = []
    with src.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            obj: dict[str, object] = {}
            for key, raw in row.items():
                value = (raw or "").strip()
                if key == "reviews":
                    if value:
                        obj[key] = [v.strip() for v in value.split(";") if v.strip()]
                elif key == "prior_detention_minutes" and value.isdigit():
                    obj[key] = int(value)
                elif value:
                    obj[key] = value
                elif key == "released_time":
                    obj[key] = None
            lines.append(json.dumps(obj, ensure_ascii=False))
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    n = convert(HERE / "suite-day.csv", HERE / "suite-day.jsonl")
    print(f"wrote {n} rows to {HERE / 'suite-day.jsonl'}")
