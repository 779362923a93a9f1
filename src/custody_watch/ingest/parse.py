"""One row of named values -> a ``Detention``, or the first reason it cannot be one.

The checks are exactly the rejection reasons of the interchange format; every other odd
ordering of times is read as given, because the rules must see what the custody system
recorded, not what we think it should have recorded."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import Any, TypeVar

from custody_watch.domain import (
    ABSENCE_FIELDS,
    CaseReviewGrade,
    CellReason,
    CertificateGround,
    Detention,
    LegalBasis,
    ReleaseReason,
)
from custody_watch.ingest.jsontext import HugeInt
from custody_watch.ingest.quote import quote
from custody_watch.ingest.result import Rejection
from custody_watch.ingest.rows import row_ref
from custody_watch.sources.base import SourceRow
from custody_watch.times import (
    FIRST_YEAR,
    LAST_YEAR,
    LONDON,
    TimeValueError,
    parse_instant,
)

REQUIRED = ("custody_ref", "suite", "arrival_time")
TEXT_FIELDS = ("force", "person_ref")
TIME_FIELDS = (
    "arrest_time",
    "relevant_time",
    "detention_authorised_time",
    "superintendent_extension_time",
    "superintendent_extension_until",
    "warrant_time",
    "warrant_until",
    "mha_extension_time",
    "mha_extension_until",
    "police_protection_start",
    "charged_time",
    "bail_refused_time",
    "la_accommodation_requested_time",
    "s38_certificate_time",
    "appropriate_adult_requested_time",
    "appropriate_adult_arrived_time",
    "released_time",
    "updated_at",
    # v2
    "welfare_person_informed_time",
    "urgent_interview_authorised_time",
    "cell_time",
    "adult_in_cell_time",
    "court_due_time",
    "social_care_referral_time",
    "case_review_time",
)
# Lists of times: ``;``-separated in CSV, a list in JSON. ``reviews`` is v1; the rest are v2,
# where an entry given twice counts once (RULES.md, Precise reading 13).
LIST_FIELDS = ("reviews", "interview_times", "strip_search_times", "cell_visit_times")
_V2_LISTS = LIST_FIELDS[1:]
BOOL_FIELDS = ("looked_after", "strip_search_urgent")
_TIMES = ("arrival_time", *TIME_FIELDS)
# Every field of the format, in the order a row's faults are reported.
FIELDS = (
    *REQUIRED,
    *TEXT_FIELDS,
    "date_of_birth",
    "legal_basis",
    "prior_detention_minutes",
    "reviews",
    "s38_certificate_ground",
    "release_reason",
    *TIME_FIELDS,
    *BOOL_FIELDS,
    *_V2_LISTS,
    "cell_reason",
    "case_review_grade",
)
_KNOWN = frozenset(FIELDS)
# Text longer than this is refused: a reference or code at 64, anything else at 200.
SHORT_TEXT = 64
LONG_TEXT = 200
_SHORT_FIELDS = frozenset(("custody_ref", "suite", "force", "person_ref"))
_LISTS = frozenset(LIST_FIELDS)
# [0-9], not \d: \d, str.isdigit and int() all take Arabic-Indic, fullwidth and other
# digits, which are not numbers in this format.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"([+-]?)([0-9]+)(?:\.0*)?")
# NUL and every other control character (C0, DEL, C1: line breaks and tabs included), the
# Unicode line and paragraph separators, and lone surrogates (text that cannot be encoded,
# so it could never be stored).
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The longest time the format can hold (with microseconds and an offset) is 32 characters;
# anything much longer is refused before parsing, so no message can echo more of it.
_LONGEST_TIME = 40
MAX_PRIOR_MINUTES = 5760  # 96 hours, the most PACE allows before charge

E = TypeVar("E", bound=StrEnum)


class RowError(Exception):
    """Why a row was rejected. ``str()`` gives the contract form ``field: reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def read_each(
    rows: Iterable[SourceRow], *, naive_zone: tzinfo | None, local_zone: tzinfo
) -> Iterator[tuple[SourceRow, dict[str, Any]] | Rejection]:
    """Each row with its checked fields (``read_fields``), or its rejection naming the row
    and the field. Never raises for a bad row."""
    for row in rows:
        if row.problem is not None:
            yield Rejection(row.number, row_ref(row), row.problem, kept_fields(row.values))
            continue
        try:
            yield (
                row,
                read_fields(
                    row.values, naive_zone=naive_zone, local_zone=local_zone, typed=row.typed
                ),
            )
        except RowError as exc:
            yield Rejection(row.number, row_ref(row), str(exc), kept_fields(row.values))


def kept_fields(values: Mapping[str, object]) -> str:
    """What quarantine keeps of a rejected row: its contract fields only (never unknown
    columns, which may hold anything), as JSON text that every database stores (control
    characters and lone surrogates escaped), each value cut to the longest a field may be."""
    kept: dict[str, object] = {}
    for name in FIELDS:
        value = values.get(name)
        if value is None:
            continue
        kept[name] = _kept(value)
    return json.dumps(kept) if kept else ""


def _kept(value: object, *, nested: bool = False) -> object:
    if isinstance(value, str):  # HugeInt too: its digits, cut like any text
        return value if len(value) <= LONG_TEXT else value[:LONG_TEXT] + "..."
    if isinstance(value, list) and not nested:
        # one level only (reviews): a list inside is kept as its kind, so no depth of
        # nesting a JSON line can hold makes this recurse
        return [_kept(item, nested=True) for item in value[:100]]
    if isinstance(value, bool | int | float) or value is None:
        # A float that JSON cannot write (inf, nan) is not kept as such.
        return value if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return type(value).__name__  # an object: only what it was


def parse_row(
    values: Mapping[str, object],
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
) -> Detention:
    """Build a ``Detention`` from named values; raise ``RowError`` naming the field."""
    return Detention(**read_fields(values, naive_zone=naive_zone, local_zone=local_zone))


def read_fields(
    values: Mapping[str, object],
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
    typed: bool = False,
    utc: bool = True,
) -> dict[str, Any]:
    """``parse_row``'s checks and conversions without building the ``Detention``: the
    arguments for one, only those the row has (the rest keep Detention's defaults). A
    backfill reads millions of rows and stores only a few fields of each. ``typed``: the
    values are JSON's, where a number given as a string is not a number. ``utc=False``:
    instants may keep the offset they were given in (the same instants; comparing them is
    exact, and ``in_utc`` converts them for the few rows that need more).

    Nearly every row is plain text in the usual forms; ``_plain_fields`` reads those in one
    pass over the row. Anything else (a fault, a number, a naive time) is read by
    ``exact_fields``, whose order of checks decides which fault a row reports."""
    try:
        fields = _plain_fields(values, naive_zone, local_zone, typed, utc)
    except Exception:
        fields = None
    if fields is not None:
        return fields
    return exact_fields(values, naive_zone=naive_zone, local_zone=local_zone, typed=typed)


# What the one-pass reading does with each field of the format.
_TIME, _TEXT, _DOB, _CHOICE, _MINUTES, _LIST, _BOOL = range(7)
_KIND = {
    **{name: _TIME for name in ("arrival_time", *TIME_FIELDS)},
    **{name: _TEXT for name in (*REQUIRED[:2], *TEXT_FIELDS)},
    "date_of_birth": _DOB,
    **{
        name: _CHOICE
        for name in (
            "legal_basis",
            "s38_certificate_ground",
            "release_reason",
            "cell_reason",
            "case_review_grade",
        )
    },
    "prior_detention_minutes": _MINUTES,
    **{name: _LIST for name in LIST_FIELDS},
    **{name: _BOOL for name in BOOL_FIELDS},
}
_CHOICES: dict[str, dict[str, StrEnum]] = {
    "legal_basis": {member.value: member for member in LegalBasis},
    "s38_certificate_ground": {member.value: member for member in CertificateGround},
    "release_reason": {member.value: member for member in ReleaseReason},
    "cell_reason": {member.value: member for member in CellReason},
    "case_review_grade": {member.value: member for member in CaseReviewGrade},
}
_ALWAYS = {
    "date_of_birth": None,
    "legal_basis": LegalBasis.PACE_ARREST,
    "prior_detention_minutes": 0,
    "reviews": (),
    "s38_certificate_ground": None,
    "release_reason": None,
}
assert _KIND.keys() == _KNOWN, "every field of the format has its reading"
_UTC = UTC
_fromisoformat = datetime.fromisoformat


def _plain_instant(text: str) -> datetime:
    """``parse_instant`` for the usual form (ASCII, upper-case, with an offset, in range),
    left in its own offset; ``ValueError`` for anything else, which the exact reading then
    reads."""
    if len(text) > _LONGEST_TIME or not text.isascii() or "t" in text or "z" in text:
        raise ValueError(text)
    parsed = _fromisoformat(text)
    if parsed.tzinfo is None or not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(text)
    return parsed


def in_utc(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` (from ``read_fields(..., utc=False)``) with every instant in UTC, as
    ``read_fields`` gives them."""
    for name, value in fields.items():
        if type(value) is datetime:
            if value.tzinfo is not _UTC:
                fields[name] = value.astimezone(_UTC)
        elif type(value) is tuple and value and type(value[0]) is datetime:
            fields[name] = tuple(at.astimezone(_UTC) for at in value)
    return fields


def _plain_fields(
    values: Mapping[str, object],
    naive_zone: tzinfo | None,
    local_zone: tzinfo,
    typed: bool,
    utc: bool = True,
) -> dict[str, Any] | None:
    """``exact_fields``' result for a row it would accept, read in one pass over the row's
    own keys; None (or an exception) for a row that is not plain, or not acceptable.

    It accepts exactly what ``exact_fields`` accepts, or less, and builds the same fields:
    every check is the same check (in another order); values that need more thought than
    text in the usual forms (numbers, HugeInt, naive times, lower-case times, long text)
    are left to the exact reading."""
    known = [
        (name, kind, value)
        for name, value in values.items()
        if value is not None and (kind := _KIND.get(name)) is not None
    ]  # not an unknown column, nor a null (absent)
    carried = frozenset(name for name in ABSENCE_FIELDS if name in values)
    return _plain_read(known, carried, local_zone, typed, utc, [])


CsvPlan = tuple[list[tuple[str, int | None]], frozenset[str]]


def csv_plan(header: Sequence[str]) -> CsvPlan:
    """What ``plain_csv_fields`` needs of a CSV header: each column's name and reading
    (None: not a field of the format), and the fields the header carries (Precise reading
    15: a column named, even with its cell empty)."""
    columns = [(name, _KIND.get(name)) for name in header]
    return columns, frozenset(name for name in ABSENCE_FIELDS if name in header)


def plain_csv_fields(
    plan: CsvPlan, cells: Sequence[str], local_zone: tzinfo, line: str
) -> dict[str, Any] | None:
    """``read_fields(rows._named(header, cells), utc=False)`` for a plain CSV row (its
    ``line`` without its end), without naming its cells first; None: read the row the usual
    way. Characters no field may hold are looked for once in the whole line (any, in any
    column, sends the row to the usual reading, which looks only at the format's fields).
    A cell is checked as given, untrimmed: white space around a value only sends the row to
    the usual reading."""
    if _NOT_TEXT.search(line) is not None:
        return None
    columns, carried = plan
    known = [
        (name, kind, cell)
        for (name, kind), cell in zip(columns, cells, strict=False)
        if cell and kind is not None
    ]
    try:
        return _plain_read(known, carried, local_zone, False, False, None)
    except Exception:
        return None


def csv_reader(plan: CsvPlan, local_zone: tzinfo) -> Callable[[list[str], str], Any]:
    """``plain_csv_fields`` for one header, compiled: a function of a row's cells and line
    that reads each column by its place, with no per-cell choice of reading (a 100,000-row
    feed spends most of evaluate's time here). It makes the same checks and builds the same
    fields; a row whose cells are not one per column is read by ``plain_csv_fields``."""
    columns, carried = plan
    body = [
        "def read(cells, line):",
        "    if len(cells) != COUNT:",
        "        return plain_csv_fields(plan, cells, local_zone, line)",
        "    if not_text(line) is not None:",
        "        return None",
        "    try:",
        "        f = dict(ALWAYS)",
        "        lists = []",
        "        born = arrival = released = None",
        "        ascii = line.isascii()",  # then so is each of its cells
    ]
    for at, (name, kind) in enumerate(columns):
        if kind is None:
            continue  # not a field of the format: only the line's characters are checked
        key = repr(name)
        body += [f"        v = cells[{at}]", "        if v:"]
        if kind != _LIST:
            body += [f"            if len(v) > {SHORT_TEXT}:", "                return None"]
        body += ["            v = v.strip()", "            if v:"]
        if kind == _TIME:
            body += [
                f"                if len(v) > {_LONGEST_TIME} or not (ascii or v.isascii())"
                " or 't' in v or 'z' in v:",
                "                    return None",
                "                t = fromiso(v)",
                "                if t.tzinfo is None or not FIRST <= t.year <= LAST:",
                "                    return None",
                f"                f[{key}] = t",
            ]
            if name in ("arrival_time", "released_time"):
                body += [f"                {name.removesuffix('_time')} = t"]
        elif kind == _TEXT:
            body += [f"                f[{key}] = v"]
        elif kind == _CHOICE:
            body += [f"                f[{key}] = CHOICES[{key}][v]"]
        elif kind == _DOB:
            body += ["                born = v"]
        elif kind == _LIST:
            body += [
                "                parts = [part.strip() for part in v.split(';')]",
                f"                if max(map(len, parts)) > {SHORT_TEXT}:",
                "                    return None",
                f"                lists.append(({key}, [instant(p) for p in parts if p]))",
            ]
        elif kind == _BOOL:
            body += [
                "                if v == 'true':",
                f"                    f[{key}] = True",
                "                elif v != 'false':",
                "                    return None",
            ]
        else:  # _MINUTES, as CSV text
            body += [
                "                if not (v.isascii() and v.isdigit() and len(v) <= 4):",
                "                    return None",
                f"                f[{key}] = minutes(int(v))",
            ]
    body += [
        # _plain_finish, for what this header has
        "        if 'custody_ref' not in f or 'suite' not in f or arrival is None:",
        "            return None",
        "        if released is not None and released < arrival:",
        "            return None",
        "        if born is not None:",
        "            if not is_date(born):",
        "                return None",
        "            day = date_of(born)",
        "            if day.toordinal() + 2 >= arrival.toordinal() and (",
        "                day > arrival.astimezone(local_zone).date()",
        "            ):",
        "                return None",
        "            f['date_of_birth'] = day",
        "        for name, times in lists:",
        "            if name == 'reviews':",
        "                f[name] = tuple(sorted(times))",
        "            elif times:",
        "                f[name] = tuple(sorted(set(times)))",
        *(["        f['feed_carries'] = carried"] if carried else []),
        "        return f",
        "    except Exception:",
        "        return None",
    ]
    scope: dict[str, Any] = {
        "COUNT": len(columns),
        "plain_csv_fields": plain_csv_fields,
        "plan": plan,
        "local_zone": local_zone,
        "not_text": _NOT_TEXT.search,
        "ALWAYS": _ALWAYS,
        "fromiso": _fromisoformat,
        "FIRST": FIRST_YEAR,
        "LAST": LAST_YEAR,
        "CHOICES": _CHOICES,
        "instant": _plain_instant,
        "minutes": _plain_minutes,
        "is_date": _DATE.fullmatch,
        "date_of": date.fromisoformat,
        "carried": carried,
    }
    exec("\n".join(body), scope)  # the code is made here, from the format's field names
    reader: Callable[[list[str], str], Any] = scope["read"]
    return reader


def _plain_read(
    known: Sequence[tuple[str, int | None, object]],
    carried: frozenset[str],
    local_zone: tzinfo,
    typed: bool,
    utc: bool,
    checked: list[str] | None,  # collects every contract text; None: already searched
) -> dict[str, Any] | None:
    fields: dict[str, Any] = dict(_ALWAYS)
    lists: list[tuple[str, list[datetime]]] = []
    born = None
    for name, kind, value in known:
        if type(value) is str:
            if checked is not None:
                checked.append(value)
            if len(value) > SHORT_TEXT and kind != _LIST:
                return None  # long text: the exact reading says whether it is too long
            text = value.strip()
            if not text:
                continue
            if kind == _TIME:  # _plain_instant, inline: a row has a dozen times
                if len(text) > _LONGEST_TIME or not text.isascii() or "t" in text or "z" in text:
                    return None
                at = _fromisoformat(text)
                if at.tzinfo is None or not FIRST_YEAR <= at.year <= LAST_YEAR:
                    return None
                fields[name] = at if not utc or at.tzinfo is _UTC else at.astimezone(_UTC)
            elif kind == _TEXT:
                fields[name] = text
            elif kind == _CHOICE:
                fields[name] = _CHOICES[name][text]  # KeyError: an unknown value
            elif kind == _DOB:
                born = text
            elif kind == _LIST:
                parts = [part.strip() for part in text.split(";")]
                if max(map(len, parts)) > SHORT_TEXT:
                    return None
                lists.append((name, [_plain_instant(part) for part in parts if part]))
            elif kind == _BOOL:
                if text == "true":
                    fields[name] = True
                elif text != "false":
                    return None
            elif typed:  # prior_detention_minutes as a JSON string: not a number
                return None
            else:
                if not (text.isascii() and text.isdigit() and len(text) <= 4):
                    return None
                fields[name] = _plain_minutes(int(text))
        elif kind == _LIST and type(value) is list:
            times = []
            for item in value:
                if item is None:
                    continue
                if type(item) is not str or len(item) > SHORT_TEXT:
                    return None
                if checked is not None:
                    checked.append(item)
                if item.strip():
                    times.append(_plain_instant(item.strip()))
            lists.append((name, times))
        elif kind == _BOOL and type(value) is bool:
            if value:
                fields[name] = True
        elif kind == _MINUTES and type(value) is int:
            fields[name] = _plain_minutes(value)
        else:
            return None
    if checked is not None and _NOT_TEXT.search("".join(checked)) is not None:
        return None
    return _plain_finish(fields, born, lists, carried, local_zone, utc)


def _plain_finish(
    fields: dict[str, Any],
    born: str | None,
    lists: list[tuple[str, list[datetime]]],
    carried: frozenset[str],
    local_zone: tzinfo,
    utc: bool,
) -> dict[str, Any] | None:
    """The end of a one-pass reading, once every cell is read: the checks across fields."""
    if "custody_ref" not in fields or "suite" not in fields or "arrival_time" not in fields:
        return None
    arrival = fields["arrival_time"]
    released = fields.get("released_time")
    if released is not None and released < arrival:
        return None
    if born is not None:
        if not _DATE.fullmatch(born):
            return None
        day = date.fromisoformat(born)
        # Two days' margin covers any offset; nearer, the local date of arrival decides.
        if day.toordinal() + 2 >= arrival.toordinal() and (
            day > arrival.astimezone(local_zone).date()
        ):
            return None
        fields["date_of_birth"] = day
    for name, times in lists:
        if utc:
            times = [at.astimezone(_UTC) for at in times]
        if name == "reviews":
            fields[name] = tuple(sorted(times))
        elif times:
            fields[name] = tuple(sorted(set(times)))
    if carried:
        fields["feed_carries"] = carried
    return fields


def _plain_minutes(minutes: int) -> int:
    if not 0 <= minutes <= MAX_PRIOR_MINUTES:
        raise ValueError(minutes)
    return minutes


def exact_fields(
    values: Mapping[str, object],
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
    typed: bool = False,
) -> dict[str, Any]:
    """``read_fields`` for any row, every check in the order that decides which fault a
    row reports."""
    _check_texts(values)
    texts = [_text(values, name) for name in REQUIRED]
    for name, text in zip(REQUIRED, texts, strict=True):
        if text is None:
            raise RowError(name, "required field missing")
    fields: dict[str, Any] = {"custody_ref": texts[0], "suite": texts[1]}
    # Only the times a row has are read (a typical row has a handful of the nineteen). The
    # order of the checks, and so which error a row with several faults reports, is the
    # order of _TIMES.
    get = values.get
    for name in _TIMES:
        value = get(name)
        if value is None:
            continue
        text = value.strip() if type(value) is str else _text(values, name)
        if not text:
            continue
        fields[name] = _instant(name, text, naive_zone)
    arrival = fields["arrival_time"]
    released = fields.get("released_time")
    if released is not None and released < arrival:
        raise RowError("released_time", "before arrival_time")
    for name in TEXT_FIELDS:
        text = _text(values, name)
        if text is not None:
            fields[name] = text
    fields["date_of_birth"] = _date_of_birth(values, arrival, local_zone)
    fields["legal_basis"] = _choice(values, "legal_basis", LegalBasis) or LegalBasis.PACE_ARREST
    fields["prior_detention_minutes"] = _minutes(values, "prior_detention_minutes", typed)
    fields["reviews"] = _times(values, "reviews", naive_zone)
    fields["s38_certificate_ground"] = _choice(values, "s38_certificate_ground", CertificateGround)
    fields["release_reason"] = _choice(values, "release_reason", ReleaseReason)
    # v2. Only what the row has is set, so a v1 row builds the same Detention as before.
    for name in BOOL_FIELDS:
        if _boolean(values, name):
            fields[name] = True
    for name in _V2_LISTS:
        times = _times(values, name, naive_zone)
        if times:
            fields[name] = tuple(sorted(set(times)))
    cell_reason = _choice(values, "cell_reason", CellReason)
    if cell_reason is not None:
        fields["cell_reason"] = cell_reason
    grade = _choice(values, "case_review_grade", CaseReviewGrade)
    if grade is not None:
        fields["case_review_grade"] = grade
    # Precise reading 15: a key present (even null or empty; a CSV column in the header,
    # even with an empty cell) is a field the feed carries.
    carried = frozenset(name for name in ABSENCE_FIELDS if name in values)
    if carried:
        fields["feed_carries"] = carried
    return fields


def _check_texts(values: Mapping[str, object]) -> None:
    """Refuse a row whose contract field holds what no text field may: a control character
    (a NUL, a line break), a lone surrogate, or more characters than the field allows.
    Checked on the value as given, before trimming (a trailing NUL or line break is a
    fault, not white space). Unknown columns are not looked at: they are never kept."""
    for name, value in values.items():
        if name not in _KNOWN:
            continue
        if isinstance(value, str):  # HugeInt's digits too
            _check_text(name, value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    _check_text(name, item)


def _check_text(name: str, value: str) -> None:
    bad = _NOT_TEXT.search(value)
    if bad is not None:
        char = bad.group()
        what = (
            "a NUL character"
            if char == "\x00"
            else "a lone surrogate"
            if "\ud800" <= char <= "\udfff"
            else f"a control character (U+{ord(char):04X})"
        )
        raise RowError(name, f"holds {what}: {quote(value)}")
    if name == "prior_detention_minutes":
        return  # a number: its digits are counted by _minutes, which says "over 5760"
    limit = SHORT_TEXT if name in _SHORT_FIELDS else LONG_TEXT
    # lists of times come in CSV as one cell; the limit is for each time in it
    parts = value.split(";") if name in _LISTS else (value,)
    for part in parts:
        if len(part.strip()) > limit:
            raise RowError(name, f"longer than {limit} characters: {quote(part.strip())}")


def _instant(name: str, text: str, naive_zone: tzinfo | None) -> datetime:
    # Refused here rather than in parse_instant: digits beyond ASCII, which fromisoformat
    # takes in some positions, and text too long to be a time, which its message would echo.
    if not text.isascii() or len(text) > _LONGEST_TIME:
        raise RowError(name, f"not a valid time: {quote(text)}")
    try:
        return parse_instant(text, naive_zone)
    except TimeValueError as exc:
        raise RowError(name, str(exc)) from None


def _text(values: Mapping[str, object], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if type(value) is str:  # the common case, kept fast: 100,000 rows x 30 fields
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(name, f"expected text, got {_json_kind(value)}")
    text = str(value).strip()
    return text or None


def _date_of_birth(values: Mapping[str, object], arrival: datetime, zone: tzinfo) -> date | None:
    text = _text(values, "date_of_birth")
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        born = date.fromisoformat(text)
    except ValueError:
        raise RowError(
            "date_of_birth", f"not a date in the form YYYY-MM-DD: {quote(text)}"
        ) from None
    arrival_day = arrival.astimezone(zone).date()
    if born > arrival_day:
        raise RowError("date_of_birth", f"{text} is after the date of arrival ({arrival_day})")
    return born


def _choice(values: Mapping[str, object], name: str, kind: type[E]) -> E | None:
    text = _text(values, name)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise RowError(name, f"unknown value {quote(text)} (expected one of: {allowed})") from None


def _minutes(values: Mapping[str, object], name: str, typed: bool) -> int:
    """Whole minutes, 0 to 5760. From JSON (``typed``) only an integer literal: a number
    with a fraction or an exponent reads as a float, and a string is not a number. From
    CSV, ASCII digits (a trailing ``.0`` allowed); their count is checked before ``int()``,
    which raises past 4,300 digits."""
    value = values.get(name)
    if value is None:
        return 0
    if isinstance(value, HugeInt):
        what = "negative" if value.startswith("-") else f"over {MAX_PRIOR_MINUTES} (96 hours)"
        raise RowError(name, f"{what}: {quote(value)}")
    if type(value) is int:
        minutes = value
    elif isinstance(value, float):
        # JSON reads a number with a fraction or an exponent (30.0, 3e1, 1e308) as a float
        reason = "a number with a fraction or an exponent, not whole minutes"
        raise RowError(name, f"{reason}: {quote(repr(value))}")
    elif isinstance(value, bool | list | dict):
        raise RowError(name, f"not a whole number of minutes: got {_json_kind(value)}")
    elif typed and isinstance(value, str):
        if not value.strip():
            return 0
        raise RowError(name, f"a string, not a number: {quote(value)}")
    else:
        text = _text(values, name)
        if text is None:
            return 0
        match = _WHOLE.fullmatch(text)
        if match is None:
            raise RowError(name, f"not a whole number of minutes: {quote(text)}")
        digits = match[2].lstrip("0") or "0"
        if len(digits) > len(str(MAX_PRIOR_MINUTES)):
            what = "negative" if match[1] == "-" else f"over {MAX_PRIOR_MINUTES} (96 hours)"
            raise RowError(name, f"{what}: {quote(text)}")
        minutes = -int(digits) if match[1] == "-" else int(digits)
    if minutes < 0:
        raise RowError(name, f"negative: {minutes}")
    if minutes > MAX_PRIOR_MINUTES:
        raise RowError(name, f"over {MAX_PRIOR_MINUTES} (96 hours): {minutes}")
    return minutes


def _times(
    values: Mapping[str, object], name: str, naive_zone: tzinfo | None
) -> tuple[datetime, ...]:
    """A list field: ``;``-separated text (CSV) or a list of text (JSON); blank and null
    entries are skipped. Sorted; an entry given twice is kept twice (callers decide)."""
    value = values.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        parts: list[object] = list(value.split(";"))
    elif isinstance(value, list):
        parts = value
    else:
        raise RowError(name, f"expected a list of times, got {_json_kind(value)}")
    times = []
    for part in parts:
        if part is None:
            continue
        if not isinstance(part, str):
            raise RowError(name, f"expected a time, got {_json_kind(part)}")
        if not part.strip():
            continue
        times.append(_instant(name, part.strip(), naive_zone))
    return tuple(sorted(times))


def _boolean(values: Mapping[str, object], name: str) -> bool:
    """``true`` or ``false`` (case-sensitive, as every value of the format), a JSON boolean,
    or absent (false)."""
    value = values.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if not isinstance(value, str):
        raise RowError(name, f"not true or false: got {_json_kind(value)}")
    text = value.strip()
    if text == "true":
        return True
    if text in ("false", ""):
        return False
    raise RowError(name, f"not true or false: {quote(text)}")


def _json_kind(value: object) -> str:
    names = {bool: "true/false", list: "a list", dict: "an object", int: "a number"}
    return names.get(type(value), type(value).__name__)
