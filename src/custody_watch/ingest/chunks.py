"""Cutting a feed into chunks of whole rows, numbered as the whole feed numbers them.

A chunk can be read anywhere (a worker process, later) and gives exactly the rows, numbers
and problems that reading the whole feed would have given for that stretch of it: every
rejection still names its row in the file. The cut is made over lines, so a feed can be
cut as it is read from a file (``line_chunks``) as well as from text held whole
(``feed_chunks``): a CSV record is one line (``rows``), and a line is a row unless it is
blank by the same test ``rows`` applies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from custody_watch.ingest.files import FeedFormat
from custody_watch.ingest.rows import (
    BOM,
    csv_line_rows,
    csv_lines,
    is_blank_csv_line,
    jsonl_line_rows,
    jsonl_lines,
    read_header,
)
from custody_watch.sources.base import SourceRow


@dataclass(frozen=True, slots=True)
class FeedChunk:
    fmt: FeedFormat
    text: str  # whole rows only
    first_row: int  # the number of the chunk's first row in the whole feed
    span: int  # how many characters of the whole feed text it covers (for progress)
    header: str = ""  # CSV: the header as written, which every chunk needs to name its cells

    def rows(self) -> Iterator[SourceRow]:
        # Over the lines as they are: the feed's BOM went before it was cut, and a chunk
        # that starts with U+FEFF (a second one, or a row's first character) keeps it.
        if self.fmt == "csv":
            return csv_line_rows(csv_lines(self.header + self.text), first=self.first_row)
        return jsonl_line_rows(jsonl_lines(self.text), first=self.first_row)


def feed_chunks(text: str, fmt: FeedFormat, rows_per_chunk: int) -> Iterator[FeedChunk]:
    """Chunks of ``rows_per_chunk`` rows (the last may be shorter), in feed order. The text
    is scanned in place: a year's backfill is millions of lines, never held as a list."""
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    body = text.removeprefix(BOM)
    lines = csv_lines(body) if fmt == "csv" else jsonl_lines(body)
    bom = len(text) - len(body)
    for chunk in line_chunks(lines, fmt, rows_per_chunk):
        yield replace(chunk, span=chunk.span + bom) if bom else chunk
        bom = 0


def line_chunks(lines: Iterable[str], fmt: FeedFormat, rows_per_chunk: int) -> Iterator[FeedChunk]:
    """``feed_chunks`` over a feed's lines (a BOM already dropped), as they are read: only
    one chunk's lines are held at a time."""
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    if fmt == "csv":
        return _csv_chunks(lines, rows_per_chunk)
    return _jsonl_chunks(lines, rows_per_chunk)


def _jsonl_chunks(lines: Iterable[str], size: int) -> Iterator[FeedChunk]:
    """The same cut as jsonl_rows: a line that is not blank is a row."""
    taken: list[str] = []
    rows, first = 0, 1
    for line in lines:
        taken.append(line)
        if line.strip():
            rows += 1
            if rows == size:
                yield _chunk("jsonl", taken, first)
                taken.clear()
                rows, first = 0, first + size
    if rows:
        yield _chunk("jsonl", taken, first)


def _csv_chunks(lines: Iterable[str], size: int) -> Iterator[FeedChunk]:
    """The same cut as csv_rows: the first line that is not blank is the header, each later
    one a row."""
    taken: list[str] = []
    header: str | None = None
    before = 0  # characters up to the header's end, counted in the first chunk's span
    rows, first = 0, 1
    for line in lines:
        if header is None:
            before += len(line)
            if is_blank_csv_line(line):
                continue
            if read_header(line)[1] is not None:
                # Nothing of a file without a readable header is read: one chunk whose
                # rows are that one whole-file problem, as csv_rows reports it.
                yield FeedChunk("csv", line, 1, before)
                return
            header = line
            continue
        taken.append(line)
        if is_blank_csv_line(line):
            continue
        rows += 1
        if rows == size:
            yield _chunk("csv", taken, first, header, before)
            taken.clear()
            rows, first, before = 0, first + size, 0
    if rows:
        yield _chunk("csv", taken, first, header or "", before)


def _chunk(
    fmt: FeedFormat, lines: list[str], first: int, header: str = "", before: int = 0
) -> FeedChunk:
    text = "".join(lines)
    return FeedChunk(fmt, text, first, before + len(text), header)
