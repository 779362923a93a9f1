"""Splitting CSV and JSON Lines text into numbered rows of named values.

Rows are numbered from 1 over data rows only: the CSV header and blank lines are not rows.
A row that cannot even be split into fields (an unbalanced CSV quote, a JSON line that is not
an object) still gets a number and comes out with a ``problem``, so it can be rejected and
shown rather than dropped. A problem with the whole file (no header row, a column named
twice) comes out once, as row 0, and nothing else of that file is read.

A CSV record is exactly one line. The format's text fields may not hold line breaks, so a
quoted field still open at the end of its line is an unbalanced quote: it costs that row
only, and reading goes on at the next line instead of swallowing the rest of the file.

Everything here works line by line, so a feed can be read as a stream (``csv_line_rows``,
``jsonl_line_rows``) as well as from text held whole (``csv_rows``, ``jsonl_rows``); both
give the same rows."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator

from custody_watch.domain import ABSENCE_FIELDS
from custody_watch.ingest import jsontext
from custody_watch.ingest.quote import quote
from custody_watch.sources.base import SourceRow

BOM = "\ufeff"
_CARRIED = frozenset(ABSENCE_FIELDS)
# The header must name these; a first line without them is not a header (a headerless
# export, or a different file put in the wrong folder), and nothing of the file is read.
HEADER_NEEDS = ("custody_ref", "arrival_time")
# universal line ends, kept: what io.StringIO(newline="") and open(newline="") give
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_LINE_END = ("\n", "\r")
# A line holds the whole of its row before the csv module sees it, so the module's own
# limit (128 KiB a field) would not bound memory, only turn an overlong cell into an error
# that cannot name its column. Raised so the cell is read and then refused by name (text
# fields are at most 200 characters). Process-wide, like every csv setting.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


def csv_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends (``\\r\\n``, ``\\r`` or ``\\n``), in place."""
    return (match.group() for match in _LINE.finditer(text))


def jsonl_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` split on ``\\n`` only: str.splitlines() would also split on
    separators that are legal inside JSON strings (U+2028 and friends)."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        stop = end if stop < 0 else stop + 1
        yield text[start:stop]
        start = stop


def csv_rows(text: str, first: int = 1) -> Iterator[SourceRow]:
    """Rows of a CSV file with a header row; any column order, unknown columns kept.
    ``first`` is the first row's number (a chunk of a longer feed starts further on)."""
    return csv_line_rows(csv_lines(text.removeprefix(BOM)), first)


def csv_line_rows(lines: Iterable[str], first: int = 1) -> Iterator[SourceRow]:
    """``csv_rows`` over lines (each with its end, as ``csv_lines`` cuts them)."""
    rest = iter(lines)
    for line in rest:
        if is_blank_csv_line(line):
            continue
        header, problem = read_header(line)
        if problem is not None:
            yield SourceRow(0, {}, "", problem)
            return
        yield from _csv_body_rows(header, rest, first)
        return


def _csv_body_rows(header: list[str], lines: Iterator[str], first: int) -> Iterator[SourceRow]:
    """The rows after the header (see ``csv_body_cells``)."""
    for number, cells, row in csv_body_cells(header, lines, first):
        yield row if row is not None else csv_row_of(header, cells, number)


def csv_body_cells(
    header: list[str], lines: Iterator[str], first: int
) -> Iterator[tuple[int, list[str], SourceRow | None]]:
    """The rows after the header, numbered from ``first``: (number, cells, None) for a
    line read whole, (number, [], row) for a line with an unbalanced quote.

    One csv reader over all the lines (a reader a line cost more than the rest of reading
    a row) gives each line's cells exactly as ``split_csv_line`` does, as long as each
    record ends with its line; a line whose quote is still open at its end made the reader
    take the next lines into that quote, so that line is read alone (``csv_row``: an
    unbalanced quote) and the lines after it again."""
    number = first - 1
    taken: list[str] = []  # the lines of the record the reader is reading

    def fed(source: Iterator[str]) -> Iterator[str]:
        for line in source:
            # the last line of a file may lack its end; an open quote must show (as in
            # split_csv_line)
            taken.append(line if line.endswith(_LINE_END) else line + "\n")
            yield taken[-1]

    while True:
        for cells in csv.reader(fed(lines)):
            if len(taken) == 1:
                taken.clear()
                # is_blank_csv_line, from the cells: the same test
                if is_blank_record(cells):
                    continue
                number += 1
                yield number, cells, None
                continue
            line, *again = taken
            taken.clear()
            if not is_blank_csv_line(line):
                number += 1
                yield number, [], csv_row(header, line, number)
            lines = itertools.chain(again, lines)
            break
        else:
            return


def read_header(line: str) -> tuple[list[str], str | None]:
    """The column names of a header line, or why the line is no header (a problem of the
    whole file: its error names no row)."""
    cells = split_csv_line(line)
    if cells and cells[-1].endswith(_LINE_END):
        return [], "header: the header row has a quote that is never closed"
    names = [name.strip() for name in cells]
    present = set(names)
    for needed in HEADER_NEEDS:
        if needed not in present:
            return [], f"header: no header row (the first line has no {needed} column)"
    if len(present) < len(names):
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                return [], f"header: the column {quote(name)} is given twice"
            seen.add(name)
    return names, None


def csv_text_cells(
    header: list[str], text: str, first: int
) -> Iterator[tuple[int, list[str], str, SourceRow | None]]:
    """``csv_body_cells`` over text held whole (a chunk of a feed after its header), with
    each row's line (without its end): the lines cut in one call, one reader over them."""
    lines = _LINE.findall(text)
    if lines and not lines[-1].endswith(_LINE_END):
        lines[-1] += "\n"  # as split_csv_line: an open quote on the last line must show
    number, start, count = first - 1, 0, len(lines)
    while start < count:
        reader = csv.reader(itertools.islice(lines, start, None))
        base = start
        for cells in reader:
            end = base + reader.line_num
            if end - start == 1:  # the record is its line
                line = lines[start]
                start = end
                if is_blank_record(cells):
                    continue
                number += 1
                yield number, cells, line.rstrip("\r\n"), None
                continue
            # A quote open at the end of the line took the next lines into it: that line
            # alone (an unbalanced quote), then the lines after it again.
            line = lines[start]
            start += 1
            if not is_blank_csv_line(line):
                number += 1
                yield number, [], "", csv_row(header, line, number)
            break
        else:
            return


def csv_plain_columns(text: str, count: int) -> list[list[str]] | None:
    """The columns of a block of CSV lines (after the header) each of which is a row of
    exactly ``count`` cells, with no quote, NUL or ``\r`` anywhere: what the csv module
    makes of such lines, cut in a few calls, with no list per row. None for any other block
    (a blank line, a row short of a cell...), which ``csv_block_entries`` reads."""
    if not text or '"' in text or "\r" in text or "\x00" in text:
        return None
    body = text if text.endswith("\n") else text + "\n"
    lines = body.count("\n")
    # Each line's cells, then a NUL cell where its line ended: a line of any other number
    # of cells puts some NUL cell out of its place.
    cells = body.replace("\n", ",\x00,").split(",")
    width = count + 1
    if len(cells) != lines * width + 1 or cells[count::width].count("\x00") != lines:
        return None
    end = len(cells) - 1
    return [cells[column:end:width] for column in range(count)]


def csv_block_entries(
    header: list[str], text: str
) -> list[tuple[int, list[str], str, SourceRow | None]]:
    """``csv_text_cells(header, text, 1)`` as a list. A block with no quote, no NUL and no
    line end but ``\n`` or ``\r\n`` is split on its line ends and commas, which is what the
    csv module makes of such lines, in a fraction of its time."""
    flat = text.replace("\r\n", "\n") if "\r" in text else text
    if '"' in flat or "\r" in flat or "\x00" in flat:
        return list(csv_text_cells(header, text, 1))
    entries: list[tuple[int, list[str], str, SourceRow | None]] = []
    number = 0
    for line in flat.split("\n"):
        cells = line.split(",")
        if len(cells) == 1 and not line.strip():
            continue  # a blank line is no row (is_blank_record)
        number += 1
        entries.append((number, cells, line, None))
    return entries


def csv_row(header: list[str], line: str, number: int) -> SourceRow:
    return csv_row_of(header, split_csv_line(line), number)


def csv_row_of(header: list[str], cells: list[str], number: int) -> SourceRow:
    if cells and cells[-1].endswith(_LINE_END):
        # The last cell swallowed the line end: its quote was still open. The cells before
        # it are kept (contract fields only reach quarantine) to show which row it was.
        column = len(cells) - 1
        name = header[column] if column < len(header) else ""
        field = name if _nameable(name) else f"column {column + 1}"
        values = _named(header, cells[:-1])
        return SourceRow(
            number,
            values,
            "",
            f"{field}: unbalanced quote (still open at the "
            "end of the line; a field may not hold a line break)",
        )
    return SourceRow(number, _named(header, cells), "")


def split_csv_line(line: str) -> list[str]:
    """The cells of one line. A line ends every record; a quote open at its end leaves the
    line end inside the last cell, which is how callers see it."""
    if not line.endswith(_LINE_END):
        line += "\n"  # the last line of a file may lack its end; an open quote must show
    return next(csv.reader((line,)))


def is_blank_csv_line(line: str) -> bool:
    """A line that is no row: only white space, or a single empty or blank quoted cell."""
    text = line.strip()
    if not text:
        return True
    if text[0] != '"':
        return False  # any other first character is content, or a comma: a row
    return is_blank_record(split_csv_line(line))


def is_blank_record(cells: list[str]) -> bool:
    return len(cells) <= 1 and not "".join(cells).strip()


def jsonl_rows(text: str, first: int = 1) -> Iterator[SourceRow]:
    """Rows of a JSON Lines file: one object per line; ``first`` as for ``csv_rows``."""
    return jsonl_line_rows(jsonl_lines(text.removeprefix(BOM)), first)


def jsonl_line_rows(lines: Iterable[str], first: int = 1) -> Iterator[SourceRow]:
    """``jsonl_rows`` over lines split on ``\\n``."""
    number = first - 1
    for line in lines:
        if not line.strip():
            continue
        number += 1
        yield jsonl_row(line, number)


def jsonl_row(line: str, number: int) -> SourceRow:
    try:
        value = jsontext.loads(line)
    except jsontext.DuplicateKey as exc:
        if _nameable(exc.key):
            return SourceRow(number, {}, "", f"{exc.key}: given twice in one JSON object")
        return SourceRow(number, {}, "", f"row: the key {quote(exc.key)} is given twice")
    except (ValueError, RecursionError) as exc:
        return SourceRow(number, {}, "", f"row: not valid JSON ({_short(exc)})")
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        return SourceRow(number, {}, "", f"row: not a JSON object (got {kind})")
    # Keys are trimmed like CSV headers; field names are identifiers, so a row whose keys
    # all are (nearly every row) has nothing to trim and is kept as decoded.
    if not all(map(str.isidentifier, value)):
        value = {key.strip(): item for key, item in value.items()}
    return SourceRow(number, value, "", None, True)


def row_ref(row: SourceRow) -> str | None:
    """The row's custody_ref when it has a usable one, to show beside a rejection: one a
    feed could legally give (a bad one is named in the error, quoted and cut short)."""
    value = row.values.get("custody_ref")
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).strip() if isinstance(value, str) else _int_text(value)
        if text and len(text) <= 64 and text.isprintable():
            return text
    return None


def _nameable(name: str) -> bool:
    """Whether a column or key name can begin an error as its field: a plain name of
    reasonable length (every contract field is one), never text a feed could use to put
    anything it likes at the head of a message."""
    return 0 < len(name) <= 64 and name.isidentifier()


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than int may print
        return ""


def _named(header: list[str], cells: list[str]) -> dict[str, object]:
    """Named, trimmed values; an empty or blank cell is absent (the format's rule, applied
    once here rather than once per field lookup). A field whose absence is a finding keeps
    its name with None: the feed carries it (RULES.md, Precise reading 15), as a JSON key
    present with null does."""
    values: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=False):
        # Header names are unique (a repeat rejects the file); blank names are ignored.
        if cell and name:  # most cells of a row are empty: no strip for them
            text = cell.strip()
            if text:
                values[name] = text
                continue
        if name in _CARRIED:
            values[name] = None
    # A short row (fewer cells than the header) still carries the header's columns.
    for name in header[len(cells) :]:
        if name in _CARRIED:
            values[name] = None
    return values


def _short(exc: BaseException) -> str:
    # The json module's messages name a position, never the text, so nothing is echoed.
    return str(exc).split("\n", 1)[0][:120]
