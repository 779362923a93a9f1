"""Building small CSV and JSON Lines feeds for the ingest tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

ARRIVAL = "2026-06-10T12:00:00Z"


def good(ref: str, **extra: object) -> dict[str, object]:
    return {"custody_ref": ref, "suite": "S1", "arrival_time": ARRIVAL, **extra}


def as_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """A CSV feed of these rows; a key a row lacks is an empty cell, lists join with ';'."""
    names: list[str] = []
    for row in rows:
        names.extend(name for name in row if name not in names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        cells = []
        for name in names:
            value = row.get(name)
            if value is None:
                cells.append("")
            elif isinstance(value, list):
                cells.append(";".join(str(v) for v in value))
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()


def as_jsonl(rows: Sequence[Mapping[str, object]]) -> str:
    return "".join(json.dumps(dict(row)) + "\n" for row in rows)


def feed(fmt: str, rows: Sequence[Mapping[str, object]]) -> str:
    return as_csv(rows) if fmt == "csv" else as_jsonl(rows)
