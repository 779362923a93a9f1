"""Poison for custody feeds: rows and files that once stopped the daemon, or might.

Every kind says what the record contract makes of it: the field its rejection must name
(``field``), or ``None`` when it is valid after all (then it must be alerted on like any
good row). Row kinds are one line of a CSV or JSON Lines file, to be mixed among good
rows (``drop_file``); file kinds are a whole file (``whole_file``), whose rows must never
be read when the file is refused.

The kinds are those of issue 10 and of custody-record.md's "Rejected rows": numbers too
long to convert, out of range or in other scripts' digits; NUL, control characters, line
breaks and lone surrogates in text fields; overlong text; unbalanced quotes; deep JSON,
huge integers, duplicate keys, NaN and Infinity, floats; BOM, UTF-16, CR-only line ends,
a million columns, a 10 MB field, bytes that are not UTF-8, no header, a column named twice."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Format = Literal["csv", "jsonl"]

# Every good and poison CSV row is written under this header.
COLUMNS = (
    "custody_ref",
    "suite",
    "arrival_time",
    "date_of_birth",
    "legal_basis",
    "prior_detention_minutes",
    "person_ref",
    "force",
    "released_time",
    "note",  # not a contract column: ignored, never kept
)
HEADER = ",".join(COLUMNS) + "\n"
CHILD_BORN = "2011-03-01"  # 15 in 2026: every good row is a child, so every rule applies


def good_row(ref: str, arrival: datetime, *, released: datetime | None = None) -> dict[str, str]:
    """A child's detention, as a feed gives it."""
    row = {
        "custody_ref": ref,
        "suite": "S1",
        "arrival_time": arrival.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date_of_birth": CHILD_BORN,
        "person_ref": f"P-{ref}",
        "note": "free text the quarantine never keeps",
    }
    if released is not None:
        row["released_time"] = released.strftime("%Y-%m-%dT%H:%M:%SZ")
    return row


def csv_line(row: dict[str, object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([_cell(row.get(name)) for name in COLUMNS])
    return out.getvalue()


def jsonl_line(row: dict[str, object]) -> str:
    return json.dumps(row) + "\n"


def _cell(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class RowKind:
    """A poison row: ``line(ref, arrival)`` is its whole line (with its end) in ``fmt``."""

    name: str
    fmt: Format
    field: str | None  # the field its rejection names; None: valid after all
    line: Callable[[str, datetime], str]


def _csv_with(**changes: object) -> Callable[[str, datetime], str]:
    def line(ref: str, arrival: datetime) -> str:
        row: dict[str, object] = {**good_row(ref, arrival), **changes}
        return csv_line(row)

    return line


def _jsonl_with(**changes: object) -> Callable[[str, datetime], str]:
    def line(ref: str, arrival: datetime) -> str:
        row: dict[str, object] = {**good_row(ref, arrival), **changes}
        return jsonl_line(row)

    return line


def _jsonl_raw(template: str) -> Callable[[str, datetime], str]:
    """A JSON line written by hand (what json.dumps cannot write); ``{ref}`` and
    ``{arrival}`` are filled in, ``{{``/``}}`` are braces."""

    def line(ref: str, arrival: datetime) -> str:
        return template.format(ref=ref, arrival=arrival.strftime("%Y-%m-%dT%H:%M:%SZ")) + "\n"

    return line


def _csv_unbalanced(ref: str, arrival: datetime) -> str:
    # A quote opened in person_ref and never closed: it must cost this row only.
    good = csv_line(dict(good_row(ref, arrival)))
    cells = good.rstrip("\n").split(",")
    cells[COLUMNS.index("person_ref")] = '"never closed'
    return ",".join(cells) + "\n"


def _csv_unbalanced_first(ref: str, arrival: datetime) -> str:
    return f'"{ref},S1,{arrival:%Y-%m-%dT%H:%M:%SZ}\n'


def _csv_latex(ref: str, arrival: datetime) -> str:
    return csv_line({**good_row(ref, arrival), "custody_ref": f"$\\undefinedmacro{{{ref}}}$"})


def _jsonl_latex(ref: str, arrival: datetime) -> str:
    return jsonl_line({**good_row(ref, arrival), "custody_ref": f"$\\undefinedmacro{{{ref}}}$"})


def _csv_many_cells(ref: str, arrival: datetime) -> str:
    # a million cells beyond the header's columns: ignored like unknown columns
    return csv_line(dict(good_row(ref, arrival))).rstrip("\n") + ",x" * 1_000_000 + "\n"


DEEP = 100_000
# The start of a hand-written JSON line (for _jsonl_raw): the required fields of a child.
_J = (
    '{{"custody_ref": "{ref}", "suite": "S1", "arrival_time": "{arrival}", '
    '"date_of_birth": "2011-03-01"'
)

ROW_KINDS: tuple[RowKind, ...] = (
    # prior_detention_minutes
    RowKind(
        "csv minutes of 5,000 digits",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="9" * 5000),
    ),
    RowKind(
        "csv minutes 5256000000",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="5256000000"),
    ),
    RowKind(
        "csv minutes 5761",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="5761"),
    ),
    RowKind(
        "csv minutes negative",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="-5"),
    ),
    RowKind(
        "csv minutes fraction",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="1.5"),
    ),
    RowKind(
        "csv minutes Arabic-Indic digits",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="\u0663\u0660"),
    ),
    RowKind(
        "csv minutes fullwidth digits",
        "csv",
        "prior_detention_minutes",
        _csv_with(prior_detention_minutes="\uff13\uff10"),
    ),
    RowKind(
        "jsonl minutes 1e308",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_raw(_J + ', "prior_detention_minutes": 1e308}}'),
    ),
    RowKind(
        "jsonl minutes 30.0",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_raw(_J + ', "prior_detention_minutes": 30.0}}'),
    ),
    RowKind(
        "jsonl minutes 3e1",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_raw(_J + ', "prior_detention_minutes": 3e1}}'),
    ),
    RowKind(
        "jsonl minutes as a string",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_with(prior_detention_minutes="30"),
    ),
    RowKind(
        "jsonl minutes of 5,000 digits",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_raw(_J + ', "prior_detention_minutes": ' + "9" * 5000 + "}}"),
    ),
    RowKind(
        "jsonl minutes 5256000000",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_with(prior_detention_minutes=5256000000),
    ),
    RowKind(
        "jsonl minutes true",
        "jsonl",
        "prior_detention_minutes",
        _jsonl_with(prior_detention_minutes=True),
    ),
    # text fields
    RowKind("csv NUL in a cell", "csv", "suite", _csv_with(suite="S\x001")),
    RowKind("csv escape character", "csv", "person_ref", _csv_with(person_ref="P\x1b[31m")),
    RowKind("csv tab inside a value", "csv", "force", _csv_with(force="F\tX")),
    RowKind("csv C1 control (NEL)", "csv", "person_ref", _csv_with(person_ref="P\x85Q")),
    RowKind("csv line separator U+2028", "csv", "suite", _csv_with(suite="S\u20281")),
    RowKind(
        "csv custody_ref of 65 characters", "csv", "custody_ref", _csv_with(custody_ref="R" * 65)
    ),
    RowKind(
        "csv legal_basis of 201 characters", "csv", "legal_basis", _csv_with(legal_basis="p" * 201)
    ),
    RowKind("csv 10 MB field", "csv", "person_ref", _csv_with(person_ref="x" * 10_000_000)),
    RowKind("csv unbalanced quote", "csv", "person_ref", _csv_unbalanced),
    RowKind(
        "csv unbalanced quote in the first column", "csv", "custody_ref", _csv_unbalanced_first
    ),
    RowKind(
        "jsonl lone surrogate in custody_ref",
        "jsonl",
        "custody_ref",
        _jsonl_raw('{{"custody_ref": "{ref}\\ud800", "suite": "S1", "arrival_time": "{arrival}"}}'),
    ),
    RowKind(
        "jsonl lone surrogate in suite",
        "jsonl",
        "suite",
        _jsonl_raw('{{"custody_ref": "{ref}", "suite": "\\udfff", "arrival_time": "{arrival}"}}'),
    ),
    RowKind(
        "jsonl lone surrogate in person_ref",
        "jsonl",
        "person_ref",
        _jsonl_raw(_J + ', "person_ref": "a\\ud83db"}}'),
    ),
    RowKind("jsonl NUL escape", "jsonl", "suite", _jsonl_with(suite="S\x00")),
    RowKind(
        "jsonl line break in a value", "jsonl", "person_ref", _jsonl_with(person_ref="line\nbreak")
    ),
    RowKind(
        "jsonl custody_ref of 100 digits",
        "jsonl",
        "custody_ref",
        _jsonl_raw(
            '{{"custody_ref": ' + "7" * 100 + ', "suite": "S1", "arrival_time": "{arrival}"}}'
        ),
    ),
    RowKind("jsonl suite true", "jsonl", "suite", _jsonl_with(suite=True)),
    RowKind("jsonl suite an object", "jsonl", "suite", _jsonl_with(suite={"a": 1})),
    # times and dates
    RowKind(
        "csv arrival in Arabic-Indic digits",
        "csv",
        "arrival_time",
        _csv_with(arrival_time="\u0662\u0660\u0662\u0666-06-10T08:00:00Z"),
    ),
    RowKind(
        "csv arrival with a fullwidth digit",
        "csv",
        "arrival_time",
        _csv_with(arrival_time="2026-06-10T0\uff18:00:00Z"),
    ),
    RowKind(
        "csv arrival in year 9999",
        "csv",
        "arrival_time",
        _csv_with(arrival_time="9999-12-31T23:59:59-01:00"),
    ),
    RowKind(
        "csv arrival of 300 characters", "csv", "arrival_time", _csv_with(arrival_time="2" * 300)
    ),
    RowKind(
        "csv date_of_birth in fullwidth digits",
        "csv",
        "date_of_birth",
        _csv_with(date_of_birth="\uff12\uff10\uff11\uff11-03-01"),
    ),
    # JSON structure
    RowKind(
        "jsonl NaN",
        "jsonl",
        "row",
        _jsonl_raw(_J + ', "prior_detention_minutes": NaN}}'),
    ),
    RowKind(
        "jsonl -Infinity",
        "jsonl",
        "row",
        _jsonl_raw(_J + ', "force": -Infinity}}'),
    ),
    RowKind(
        "jsonl deeply nested line", "jsonl", "row", lambda ref, at: "[" * DEEP + "]" * DEEP + "\n"
    ),
    RowKind(
        "jsonl deeply nested value",
        "jsonl",
        "row",
        _jsonl_raw(
            '{{"custody_ref": "{ref}", "suite": '
            + "[" * 5000
            + "]" * 5000
            + ', "arrival_time": "{arrival}"}}'
        ),
    ),
    RowKind(
        "jsonl duplicate key",
        "jsonl",
        "suite",
        _jsonl_raw(
            '{{"custody_ref": "{ref}", "suite": "S1", "suite": "S2", "arrival_time": "{arrival}"}}'
        ),
    ),
    RowKind("jsonl array line", "jsonl", "row", lambda ref, at: "[1, 2]\n"),
    RowKind("jsonl string line", "jsonl", "row", lambda ref, at: '"C-1"\n'),
    RowKind("jsonl null line", "jsonl", "row", lambda ref, at: "null\n"),
    RowKind(
        "jsonl truncated object", "jsonl", "row", _jsonl_raw('{{"custody_ref": "{ref}", "suite": ')
    ),
    # valid after all: must be read and alerted on
    RowKind("csv custody_ref that is TeX maths", "csv", None, _csv_latex),
    RowKind("jsonl custody_ref that is TeX maths", "jsonl", None, _jsonl_latex),
    RowKind("csv a million cells past the header", "csv", None, _csv_many_cells),
)


@dataclass(frozen=True)
class FileKind:
    """A poison file: ``data(rows)`` is its bytes, given good-looking rows to carry. When
    ``field`` is set the file is refused whole (one row-0 rejection naming that field and
    the file) and its rows must not be read; when None it is valid and its rows count."""

    name: str
    fmt: Format
    field: str | None
    data: Callable[[Sequence[dict[str, str]]], bytes]


def _csv_text(rows: Sequence[dict[str, str]], header: str = HEADER, end: str = "\n") -> str:
    return (header + "".join(csv_line(dict(row)) for row in rows)).replace("\n", end)


def _jsonl_text(rows: Sequence[dict[str, str]]) -> str:
    return "".join(jsonl_line(dict(row)) for row in rows)


FILE_KINDS: tuple[FileKind, ...] = (
    FileKind(
        "csv with a BOM", "csv", None, lambda rows: b"\xef\xbb\xbf" + _csv_text(rows).encode()
    ),
    FileKind(
        "jsonl with a BOM", "jsonl", None, lambda rows: b"\xef\xbb\xbf" + _jsonl_text(rows).encode()
    ),
    FileKind(
        "csv with CR-only line ends", "csv", None, lambda rows: _csv_text(rows, end="\r").encode()
    ),
    FileKind(
        "csv with CRLF line ends", "csv", None, lambda rows: _csv_text(rows, end="\r\n").encode()
    ),
    FileKind(
        "csv with a million columns",
        "csv",
        None,
        lambda rows: _csv_text(
            rows, header=HEADER.rstrip("\n") + "".join(f",x{i}" for i in range(1_000_000)) + "\n"
        ).encode(),
    ),
    FileKind("csv in UTF-16", "csv", "file", lambda rows: _csv_text(rows).encode("utf-16")),
    FileKind("jsonl in UTF-16", "jsonl", "file", lambda rows: _jsonl_text(rows).encode("utf-16")),
    FileKind(
        "csv in Latin-1",
        "csv",
        "file",
        lambda rows: _csv_text(rows).replace("S1", "S\xe91").encode("latin-1"),
    ),
    FileKind(
        "csv with an encoded surrogate",
        "csv",
        "file",
        lambda rows: _csv_text(rows).encode() + b"X-1,\xed\xa0\x80,2026\n",
    ),
    FileKind(
        "csv without a header", "csv", "header", lambda rows: _csv_text(rows, header="").encode()
    ),
    FileKind(
        "csv with a column named twice",
        "csv",
        "header",
        lambda rows: _csv_text(rows, header=HEADER.rstrip("\n") + ",suite\n").encode(),
    ),
    FileKind(
        "csv whose header quote never closes",
        "csv",
        "header",
        lambda rows: _csv_text(rows, header='"custody_ref,suite,arrival_time\n').encode(),
    ),
)


@dataclass(frozen=True)
class Planted:
    """A poison row as placed in a file: the file, its row number there, and the field its
    rejection must name (None: valid, so its ``good`` row must be alerted on)."""

    file: str
    row: int
    kind: str
    field: str | None
    good: dict[str, str] | None = None


def drop_file(
    name: str,
    fmt: Format,
    good: Sequence[dict[str, str]],
    poison: Sequence[tuple[RowKind, str, datetime]],
    rng: random.Random,
) -> tuple[bytes, list[Planted]]:
    """A file of ``good`` rows with each poison row (kind, custody_ref, arrival) put at a
    random place; returns its bytes and where each poison row is."""
    items: list[tuple[str, RowKind | None, str, datetime | None]] = [
        ("good", None, "", None) for _ in good
    ]
    for kind, ref, arrival in poison:
        assert kind.fmt == fmt, kind
        items.insert(rng.randrange(len(items) + 1), ("poison", kind, ref, arrival))
    lines: list[str] = [HEADER] if fmt == "csv" else []
    planted: list[Planted] = []
    goods = iter(good)
    for number, (_, maybe, ref, at) in enumerate(items, start=1):
        if maybe is None:
            row = next(goods)
            lines.append(csv_line(dict(row)) if fmt == "csv" else jsonl_line(dict(row)))
            continue
        assert at is not None
        kind = maybe
        lines.append(kind.line(ref, at))
        valid = dict(good_row(ref, at)) if kind.field is None else None
        if valid is not None and "TeX" in kind.name:
            valid["custody_ref"] = f"$\\undefinedmacro{{{ref}}}$"
        planted.append(Planted(name, number, kind.name, kind.field, valid))
    return "".join(lines).encode("utf-8"), planted


def arrivals(now: datetime, count: int, rng: random.Random) -> list[datetime]:
    """Arrival times spread over the hours before ``now``, so that findings of every
    severity (and none) come up as the clock moves on."""
    return [now - timedelta(minutes=rng.randrange(0, 6 * 60)) for _ in range(count)]
