"""Splitting CSV and JSON Lines text into numbered rows of named values.

Rows are numbered from 1 over data rows only: the CSV header and blank lines are not rows.
A row that cannot even be split into fields (broken CSV quoting, a JSON line that is not an
object) still gets a number and comes out with a ``problem``, so it can be rejected and shown
rather than dropped."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from custody_watch.ingest import jsontext


class SourceRow(NamedTuple):
    """One row of a feed. A tuple (immutable, and the cheapest to make and to pickle: a
    backfill makes millions)."""

    number: int
    values: Mapping[str, object]
    raw: str
    problem: str | None = None


def csv_rows(text: str, first: int = 1) -> Iterator[SourceRow]:
    """Rows of a CSV file with a header row; any column order, unknown columns kept.
    ``first`` is the first row's number (a chunk of a longer feed starts further on)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] | None = None
    number = first - 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if header is None:
                # Without a header no row can be read; report once and stop.
                yield SourceRow(first, {}, "", f"row: the CSV header cannot be read ({exc})")
                return
            number += 1
            yield SourceRow(number, {}, "", f"row: not valid CSV ({exc})")
            continue
        if is_blank_record(cells):
            continue
        if header is None:
            header = [name.strip() for name in cells]
            continue
        number += 1
        yield SourceRow(number, _named(header, cells), _csv_line(cells))


def jsonl_rows(text: str, first: int = 1) -> Iterator[SourceRow]:
    """Rows of a JSON Lines file: one object per line; ``first`` as for ``csv_rows``."""
    number = first - 1
    # Split on \n only: str.splitlines() would also split on separators that are legal
    # inside JSON strings (U+2028 and friends).
    for line in text.removeprefix("\ufeff").split("\n"):
        if not line.strip():
            continue
        number += 1
        try:
            value = jsontext.loads(line)
        except (ValueError, RecursionError) as exc:
            yield SourceRow(number, {}, line, f"row: not valid JSON ({_short(exc)})")
            continue
        if not isinstance(value, dict):
            kind = type(value).__name__ if value is not None else "null"
            yield SourceRow(number, {}, line, f"row: not a JSON object (got {kind})")
            continue
        # Keys are trimmed like CSV headers; field names are identifiers, so a row whose
        # keys all are (nearly every row) has nothing to trim and is kept as decoded.
        if not all(map(str.isidentifier, value)):
            value = {key.strip(): item for key, item in value.items()}
        yield SourceRow(number, value, line)


def row_ref(row: SourceRow) -> str | None:
    """The row's custody_ref when it has a usable one, to show beside a rejection."""
    value = row.values.get("custody_ref")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def is_blank_record(cells: list[str]) -> bool:
    return len(cells) <= 1 and not "".join(cells).strip()


def _named(header: list[str], cells: list[str]) -> dict[str, object]:
    """Named, trimmed values; an empty or blank cell is absent (the format's rule, applied
    once here rather than once per field lookup)."""
    values: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=False):
        # The first column of a name wins; a repeated column must not blank a filled one.
        if name and name not in values:
            text = cell.strip()
            if text:
                values[name] = text
    return values


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:120]
