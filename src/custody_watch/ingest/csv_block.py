"""The plain rows of a block of CSV, read a column at a time.

``parse.csv_reader`` reads one row in Python bytecode, a dozen steps per cell; a block of
thousands of rows read per column instead puts most of those steps in C: ``fromisoformat``
mapped over a column's cells, its lengths and letters checked over the column joined, a
choice column checked as a set. It says which rows ``csv_reader`` would accept (each
unchecked row is left to it, or to the usual reading) and gives those rows' few values that
deciding versions and ``rules.engine.may_find`` need, with no dict built per row. A row it
passes is a row ``csv_reader`` accepts, with these same values in its fields (a hypothesis
test compares the two); the few rows a rule can look at are then read by ``csv_reader``
itself, for all their fields.

To stay simple it is stricter than ``csv_reader``: a line with a space, a character outside
ASCII or any character ``parse`` refuses in text is left to the row's own reading, as is a
cell that fails any check (its column is then checked a cell at a time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import compress, repeat
from operator import attrgetter, floordiv, lt, sub
from typing import Any

from custody_watch.ingest.parse import (
    _BOOL,
    _CHOICE,
    _CHOICES,
    _DATE,
    _DOB,
    _KIND,
    _LIST,
    _LONGEST_TIME,
    _MINUTES,
    _NOT_TEXT,
    _TEXT,
    _TIME,
    MAX_PRIOR_MINUTES,
    REQUIRED,
    SHORT_TEXT,
    CsvPlan,
)
from custody_watch.times import EPOCH, FIRST_YEAR, LAST_YEAR, MICROSECOND

_fromiso = datetime.fromisoformat
_zone_of = attrgetter("tzinfo")
_year_of = attrgetter("year")
# Every text csv_reader reads as prior_detention_minutes: 1 to 4 ASCII digits, at most
# MAX_PRIOR_MINUTES; and the empty cell.
_MINUTES_TEXTS = frozenset(
    [""]
    + [
        f"{value:0{width}d}"
        for width in range(1, 5)
        for value in range(min(10**width, MAX_PRIOR_MINUTES + 1))
    ]
)
_DATES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2})*")  # dates of ten characters, joined
_BOOL_TEXTS = frozenset(("", "true", "false"))
# The instants deciding versions and whether a rule may look at a row need (may_find).
_KEPT_TIMES = frozenset(("arrival_time", "released_time", "updated_at", "arrest_time"))


@dataclass(slots=True)
class PlainBlock:
    """Per row of the block: ``plain[i]`` is True when ``csv_reader`` accepts row ``i``,
    and then the values below are its fields' (None: absent). A row not plain has
    meaningless values (None where a value could not be read)."""

    plain: list[bool]
    refs: Sequence[str]
    persons: list[Any]
    arrivals: list[Any]
    released: list[Any]
    updated: list[Any]
    arrests: list[Any]
    born: list[date | None]
    # arrivals, released and updated as microseconds since 1970: an instant's own offset
    # makes every comparison of two datetimes cost as much as this, once
    arrival_us: list[Any]
    released_us: list[Any]
    updated_us: list[Any]


def block_reader(plan: CsvPlan, local_zone: tzinfo) -> Callable[[list[Any], set[int]], PlainBlock]:
    """A reader of blocks of rows of the header ``plan`` describes: ``read(columns, bad)``
    with the block's cells a column at a time (exactly one per column of the header), and
    the rows already known not to be plain (``bad``, added to)."""
    columns, _carried = plan
    at = {name: place for place, (name, kind) in enumerate(columns) if kind is not None}
    known = [(place, name, kind) for place, (name, kind) in enumerate(columns) if kind is not None]

    def read(cols: list[Any], bad: set[int]) -> PlainBlock:
        n = len(cols[0]) if cols else 0
        if n == 0 or "custody_ref" not in at or "suite" not in at or "arrival_time" not in at:
            return _none_plain(n)
        kept: dict[str, list[Any]] = {}
        for place, name, kind in known:
            cells = cols[place]
            if kind == _TIME:
                values = _times(cells, bad, name in _KEPT_TIMES)
                if values is not None:
                    kept[name] = values
            elif kind == _TEXT:
                _texts(cells, bad)
            elif kind == _CHOICE:
                _within(cells, frozenset(("", *_CHOICES[name])), bad)
            elif kind == _DOB:
                kept[name] = _born_dates(cells, bad)
            elif kind == _LIST:
                _time_lists(cells, bad)
            elif kind == _MINUTES:
                _within(cells, _MINUTES_TEXTS, bad)
            else:  # _BOOL
                _within(cells, _BOOL_TEXTS, bad)
        refs = cols[at["custody_ref"]]
        none = [None] * n
        arrivals = kept["arrival_time"]
        released = kept.get("released_time", none)
        updated = kept.get("updated_at", none)
        born = kept.get("date_of_birth", none)
        arrival_us, released_us = micros(arrivals), micros(released)
        checks = (arrivals, released, arrival_us, released_us)
        _across(refs, cols[at["suite"]], checks, born, local_zone, bad)
        person = at.get("person_ref")
        return PlainBlock(
            plain=[i not in bad for i in range(n)] if bad else [True] * n,
            refs=refs,
            persons=none if person is None else [p or None for p in cols[person]],
            arrivals=arrivals,
            released=released,
            updated=updated,
            arrests=kept.get("arrest_time", none),
            born=born,
            arrival_us=arrival_us,
            released_us=released_us,
            updated_us=micros(updated),
        )

    return read


def _none_plain(n: int) -> PlainBlock:
    none: list[Any] = [None] * n
    return PlainBlock([False] * n, none, none, none, none, none, none, none, none, none, none)


def micros(instants: list[Any]) -> list[Any]:
    """Each instant (None: none) as microseconds since 1970."""
    given = list(filter(None, instants))  # a datetime is never false
    if not given:
        return [None] * len(instants)
    each = map(floordiv, map(sub, given, repeat(EPOCH)), repeat(MICROSECOND))
    if len(given) == len(instants):
        return list(each)
    return [None if at is None else next(each) for at in instants]


# Printable ASCII but the space, and the line feed.
_PLAIN_BYTES = bytes(range(0x21, 0x7F)) + b"\n"


def plain_text(text: str) -> bool:
    """Whether every line of ``text`` is ASCII with no space and no character ``parse``
    refuses in text (then no line is odd: ``odd_lines``)."""
    return text.isascii() and not text.encode("ascii").translate(None, _PLAIN_BYTES)


def odd_lines(lines: Sequence[str]) -> set[int]:
    """The lines with a space (a cell that ``strip`` would change, or text with spaces), a
    character outside ASCII, or one ``parse`` refuses in text: left to the row's reading."""
    return {
        i
        for i, line in enumerate(lines)
        if not line.isascii() or " " in line or _NOT_TEXT.search(line) is not None
    }


def _times(cells: Sequence[str], bad: set[int], wanted: bool) -> list[Any] | None:
    """Each cell's instant (None: empty), in its own offset, as ``csv_reader`` reads it;
    only checked when not ``wanted``."""
    given = [cell for cell in cells if cell]
    parsed = _instants(given)
    if None in parsed:  # a cell csv_reader refuses: its row is not plain
        places = [i for i, cell in enumerate(cells) if cell]
        bad.update(places[k] for k, value in enumerate(parsed) if value is None)
    if not wanted:
        return None
    each = iter(parsed)
    return [next(each) if cell else None for cell in cells]


def _instants(texts: list[str]) -> list[Any]:
    """Each text's instant, None where ``csv_reader`` refuses it: the whole list in a few
    calls. A time without an offset (the usual fault) is found among the parsed; any other
    fault is looked for in halves (a few more calls each)."""
    if not texts:
        return []
    joined = "".join(texts)
    try:
        if max(map(len, texts)) > _LONGEST_TIME or "t" in joined or "z" in joined:
            raise ValueError
        parsed: list[Any] = list(map(_fromiso, texts))
    except Exception:
        if len(texts) <= 8:
            return [_time(text) for text in texts]
        half = len(texts) // 2
        return _instants(texts[:half]) + _instants(texts[half:])
    years = list(map(_year_of, parsed))
    if None in map(_zone_of, parsed) or min(years) < FIRST_YEAR or max(years) > LAST_YEAR:
        parsed = [
            at if at.tzinfo is not None and FIRST_YEAR <= at.year <= LAST_YEAR else None
            for at in parsed
        ]
    return parsed


def _time(text: str) -> datetime | None:
    if len(text) > _LONGEST_TIME or "t" in text or "z" in text:
        return None
    try:
        value = _fromiso(text)
    except Exception:
        return None
    if value.tzinfo is None or not FIRST_YEAR <= value.year <= LAST_YEAR:
        return None
    return value


def _texts(cells: Sequence[str], bad: set[int]) -> None:
    if max(map(len, cells)) > SHORT_TEXT:
        bad.update(i for i, cell in enumerate(cells) if len(cell) > SHORT_TEXT)


def _within(cells: Sequence[str], allowed: frozenset[str], bad: set[int]) -> None:
    if not allowed.issuperset(cells):
        bad.update(i for i, cell in enumerate(cells) if cell not in allowed)


def _born_dates(cells: Sequence[str], bad: set[int]) -> list[date | None]:
    """Dates of birth as written (``YYYY-MM-DD``); the check against arrival is
    ``_across``'s."""
    given = [cell for cell in cells if cell]
    days = _dates(given)
    if None in days:  # a cell csv_reader refuses: its row is not plain
        places = [i for i, cell in enumerate(cells) if cell]
        bad.update(places[k] for k, day in enumerate(days) if day is None)
    each = iter(days)
    return [next(each) if cell else None for cell in cells]


def _dates(texts: list[str]) -> list[date | None]:
    """Each text's date, None where ``csv_reader`` refuses it; as ``_instants``: a text that
    is no date of ten characters is found where the pattern stops matching."""
    if not texts:
        return []
    if max(map(len, texts)) != 10 or min(map(len, texts)) != 10:  # some cannot be dates
        dates = iter(_dates([text for text in texts if len(text) == 10]))
        return [next(dates) if len(text) == 10 else None for text in texts]
    joined = "".join(texts)
    out: list[date | None] = []
    start = 0
    while start < len(texts):
        found = _DATES.match(joined, start * 10)  # matches, if only the empty text
        end = (found.end() if found else start * 10) // 10  # texts[start:end] are dates
        out += _calendar_dates(texts[start:end])
        if end < len(texts):
            out.append(None)  # not YYYY-MM-DD
        start = end + 1
    return out


def _calendar_dates(texts: list[str]) -> list[date | None]:
    try:
        return list(map(date.fromisoformat, texts))
    except Exception:  # such as 2009-13-01
        if len(texts) <= 8:
            return [_date(text) for text in texts]
        half = len(texts) // 2
        return _calendar_dates(texts[:half]) + _calendar_dates(texts[half:])


def _date(text: str) -> date | None:
    if len(text) > SHORT_TEXT or not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except Exception:
        return None


def _time_lists(cells: Sequence[str], bad: set[int]) -> None:
    """``;``-separated instants: every entry a plain instant (empty entries are skipped)."""
    given = [cell for cell in cells if cell]
    if not given:
        return
    parts = ";".join(given).split(";")
    if max(map(len, parts)) <= _LONGEST_TIME and None not in _instants(list(filter(None, parts))):
        return
    for i, cell in enumerate(cells):
        if cell:
            each = cell.split(";")
            if max(map(len, each)) > SHORT_TEXT or None in _instants(list(filter(None, each))):
                bad.add(i)


def _across(
    refs: Sequence[str],
    suites: Sequence[str],
    checks: tuple[list[Any], list[Any], list[Any], list[Any]],
    born: list[date | None],
    local_zone: tzinfo,
    bad: set[int],
) -> None:
    """The checks across fields (``parse._plain_finish``): the fields a row needs, release
    not before arrival, no date of birth after the local date of arrival. Each check is
    made on whole columns first, and row by row only where it may fail."""
    arrivals, released, arrival_us, released_us = checks
    if "" in refs or "" in suites or None in arrivals:
        bad.update(
            i
            for i, arrival in enumerate(arrivals)
            if arrival is None or not refs[i] or not suites[i]
        )
        rows = [i for i, out in enumerate(released) if out is not None and arrivals[i] is not None]
        bad.update(i for i in rows if released_us[i] < arrival_us[i])
    elif True in map(lt, compress(released_us, released), compress(arrival_us, released)):
        bad.update(
            i for i, out in enumerate(released_us) if out is not None and out < arrival_us[i]
        )
    days = list(filter(None, born))
    if not days:
        return
    arrived = [at for at in arrival_us if at is not None]
    if not arrived:
        return
    first = arrivals[arrival_us.index(min(arrived))]
    # A date of birth two days or more before the first arrival's own date is before the
    # local date of every arrival (an offset moves a date by one day at most): most files
    # have none nearer.
    if max(days).toordinal() + 4 < first.toordinal():
        return
    for i, day in enumerate(born):
        arrival = arrivals[i]
        if day is None or arrival is None or day.toordinal() + 2 < arrival.toordinal():
            continue
        try:
            if day > arrival.astimezone(local_zone).date():
                bad.add(i)
        except Exception:
            bad.add(i)


def json_columns(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]], set[int]]:
    """Decoded JSON Lines rows as a block for ``block_reader``: the format's fields they
    hold (their names, in the format's order), each as a column of text the way a CSV cell
    holds it ('' when absent or null; ``true``/``false``; minutes as digits; a list of
    times ``;``-joined), and the rows that cannot be plain: a value of a type
    ``parse._plain_read`` does not read as plain, a list entry holding ``;``, or text with a
    space, outside ASCII or that text may not hold."""
    present = set().union(*rows) if rows else set()
    # The three a row needs always have a column: a block whose rows hold none of them
    # still has a row per row (none plain).
    names = [name for name in _FIELD_ORDER if name in present or name in REQUIRED]
    bad: set[int] = set()
    columns = []
    for name in names:
        kind = _KIND[name]
        values = [row.get(name) for row in rows]
        kinds = set(map(type, values))
        if kinds <= _TEXT_TYPES and kind != _MINUTES:  # minutes in JSON are numbers
            cells = [value or "" for value in values]
        else:
            cells = [_json_cell(value, kind, bad, i) for i, value in enumerate(values)]
        joined = "".join(cells)
        if not (joined.isascii() and " " not in joined and joined.isprintable()):
            bad.update(i for i, cell in enumerate(cells) if odd_lines([cell]))
        columns.append(cells)
    return names, columns, bad


_TEXT_TYPES = frozenset((str, type(None)))
_FIELD_ORDER = tuple(_KIND)


def _json_cell(value: Any, kind: int, bad: set[int], row: int) -> str:
    """One decoded value as a CSV cell (see ``json_columns``); '' and the row marked when it
    is not read as plain."""
    if value is None:
        return ""
    if type(value) is str:
        if kind != _MINUTES or not value:
            return value
    elif kind == _LIST and type(value) is list:
        items = [item for item in value if item is not None]
        if all(type(item) is str and len(item) <= SHORT_TEXT and ";" not in item for item in items):
            return ";".join(items)
    elif kind == _BOOL and type(value) is bool:
        return "true" if value else "false"
    elif kind == _MINUTES and type(value) is int and 0 <= value <= MAX_PRIOR_MINUTES:
        return str(value)
    bad.add(row)
    return ""
