"""Cutting a feed's text into chunks of whole rows, numbered as the whole feed numbers them.

A chunk can be read anywhere (a worker process, later) and gives exactly the rows, numbers
and problems that reading the whole text would have given for that stretch of it: every
rejection still names its row in the file."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from custody_watch.ingest.files import FeedFormat
from custody_watch.ingest.rows import SourceRow, csv_rows, is_blank_record, jsonl_rows

BOM = "\ufeff"
_NOT_BLANK = re.compile(r"\S")  # \s is exactly what str.strip() removes
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # universal line ends, kept


@dataclass(frozen=True, slots=True)
class FeedChunk:
    fmt: FeedFormat
    text: str  # whole rows only
    first_row: int  # the number of the chunk's first row in the whole feed
    span: int  # how many characters of the whole feed text it covers (for progress)
    header: str = ""  # CSV: the header as written, which every chunk needs to name its cells

    def rows(self) -> Iterator[SourceRow]:
        if self.fmt == "csv":
            return csv_rows(self.header + self.text, first=self.first_row)
        return jsonl_rows(self.text, first=self.first_row)


def feed_chunks(text: str, fmt: FeedFormat, rows_per_chunk: int) -> Iterator[FeedChunk]:
    """Chunks of ``rows_per_chunk`` rows (the last may be shorter), in feed order."""
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    body = text.removeprefix(BOM)
    chunks = (
        _csv_chunks(body, rows_per_chunk) if fmt == "csv" else _jsonl_chunks(body, rows_per_chunk)
    )
    bom = len(text) - len(body)
    for chunk in chunks:
        yield replace(chunk, span=chunk.span + bom) if bom else chunk
        bom = 0


def _jsonl_chunks(body: str, size: int) -> Iterator[FeedChunk]:
    """The same cut as jsonl_rows ("\n" only; a blank line is not a row), found by scanning
    the text in place: a year's backfill is millions of lines, never held as a list."""
    start, rows, first, at, end = 0, 0, 1, 0, len(body)
    while at < end:
        stop = body.find("\n", at)
        stop = end if stop < 0 else stop + 1  # the line with its own "\n", if any
        if _NOT_BLANK.search(body, at, stop):
            rows += 1
            if rows == size:
                yield FeedChunk("jsonl", body[start:stop], first, stop - start)
                start, rows, first = stop, 0, first + size
        at = stop
    if rows:
        yield FeedChunk("jsonl", body[start:], first, end - start)


def _csv_chunks(body: str, size: int) -> Iterator[FeedChunk]:
    """A record may span lines (a quoted newline), so the cut is found by reading records
    with the csv module itself; the chunk's text is the lines those records took."""
    taken: list[str] = []

    def lines() -> Iterator[str]:
        # The lines csv_rows's io.StringIO(newline="") gives, found in place rather than
        # through a copy of the whole file (StringIO keeps four bytes a character).
        for match in _LINE.finditer(body):
            line = match.group()
            taken.append(line)
            yield line

    reader = csv.reader(lines())
    header: str | None = None
    rows, first = 0, 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            if header is None:
                # Without a header nothing can be read; csv_rows reports that once, so the
                # whole text goes as one chunk for it to do so.
                yield FeedChunk("csv", body, 1, len(body))
                return
            cells = None  # a row that cannot be split is still a row (rejected by number)
        if cells is not None and is_blank_record(cells):
            continue
        if header is None:
            header = "".join(taken)
            taken.clear()
            continue
        rows += 1
        if rows == size:
            yield _csv_chunk("".join(taken), first, header)
            taken.clear()
            rows, first = 0, first + size
    if rows:
        yield _csv_chunk("".join(taken), first, header or "")


def _csv_chunk(text: str, first: int, header: str) -> FeedChunk:
    # The header's characters count once, in the first chunk's span.
    return FeedChunk("csv", text, first, len(text) + (len(header) if first == 1 else 0), header)
