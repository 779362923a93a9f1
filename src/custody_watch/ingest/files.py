"""Reading a whole feed (a file or its text) into a ``ReadResult``, and a feed file's lines
as a stream.

A file is read a line at a time: memory holds the detentions chosen so far (one per
custody_ref) and the rejections, never the file's text or every version of every row."""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path
from typing import Literal

from custody_watch.domain import Detention
from custody_watch.errors import InputError
from custody_watch.ingest.parse import read_each
from custody_watch.ingest.result import ReadResult, Rejection
from custody_watch.ingest.rows import (
    csv_line_rows,
    csv_rows,
    jsonl_line_rows,
    jsonl_rows,
)
from custody_watch.ingest.versions import latest_versions
from custody_watch.sources.base import SourceRow
from custody_watch.times import LONDON

FeedFormat = Literal["csv", "jsonl"]
BLOCK = 1 << 20  # bytes read at a time when a file is scanned


def feed_format(path: Path) -> FeedFormat:
    """The format is chosen by the file's extension, in any letter case."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".jsonl":
        return "jsonl"
    raise InputError(f"{path}: unknown file type {path.suffix!r} (expected .csv or .jsonl)")


def read_feed_text(path: Path) -> str:
    """The file's text; raises ``InputError`` naming the file when it cannot be read."""
    return feed_text(path, read_feed_bytes(path))


def read_feed_bytes(path: Path) -> bytes:
    """The file's bytes; raises ``InputError`` naming the file when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def feed_text(path: Path, data: bytes) -> str:
    """``data`` (read from ``path``) as text; ``InputError`` when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None


def scan_file(path: Path) -> tuple[str, int | None]:
    """One pass over the file's bytes, a block at a time: their SHA-256 (hex) and the
    offset of the first byte that is not UTF-8 (None: all of it is). Raises ``OSError``."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, bad = 0, None
    with path.open("rb") as stream:
        while block := stream.read(BLOCK):
            digest.update(block)
            if bad is None:
                # the decoder holds back up to three bytes of an unfinished character, and
                # an error's position counts from the first of them
                held = len(decoder.getstate()[0])
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    bad = offset - held + exc.start
            offset += len(block)
    if bad is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad = offset - len(decoder.getstate()[0])
    return digest.hexdigest(), bad


def file_lines(path: Path, fmt: FeedFormat) -> Iterator[str]:
    """The file's lines, as ``rows.csv_lines``/``rows.jsonl_lines`` cut its text, read a
    few kilobytes at a time (a BOM dropped). Raises ``OSError``, and
    ``UnicodeDecodeError`` where the bytes stop being UTF-8 (check with ``scan_file``
    first to know before anything is read)."""
    # newline="" keeps \r\n, \r and \n as line ends, untranslated (CSV's universal ends);
    # newline="\n" ends a line at \n only, as JSON Lines wants.
    newline = "" if fmt == "csv" else "\n"
    with path.open(encoding="utf-8-sig", newline=newline) as stream:
        yield from stream


def file_rows(path: Path, fmt: FeedFormat) -> Iterator[SourceRow]:
    lines = file_lines(path, fmt)
    return csv_line_rows(lines) if fmt == "csv" else jsonl_line_rows(lines)


def read_records_file(
    path: Path, *, naive_zone: tzinfo | None = None, local_zone: tzinfo = LONDON
) -> ReadResult:
    """Every row of the file, read as a stream. ``InputError`` naming the file when it
    cannot be read or is not UTF-8 text (found before anything is returned)."""
    fmt = feed_format(path)
    try:
        result = read_rows(file_rows(path, fmt), naive_zone=naive_zone, local_zone=local_zone)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        _, bad = scan_file(path)
        raise InputError(f"{path}: not UTF-8 text (bad byte at offset {bad})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    result.rejected = [naming_file(rejection, path.name) for rejection in result.rejected]
    return result


def naming_file(rejection: Rejection, name: str) -> Rejection:
    """A whole-file problem (row 0) names its file after the field: ``header: NAME: ...``."""
    if rejection.row != 0:
        return rejection
    field, _, reason = rejection.error.partition(": ")
    return replace(rejection, error=f"{field}: {name}: {reason}")


def read_records_text(
    text: str,
    fmt: FeedFormat,
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
) -> ReadResult:
    rows = csv_rows(text) if fmt == "csv" else jsonl_rows(text)
    return read_rows(rows, naive_zone=naive_zone, local_zone=local_zone)


def read_rows(
    rows: Iterable[SourceRow], *, naive_zone: tzinfo | None, local_zone: tzinfo
) -> ReadResult:
    """Every row, read or rejected, with one version of each detention chosen as the rows
    go by: only the chosen ones are held."""
    result = ReadResult()

    def detentions() -> Iterator[Detention]:
        for item in read_each(rows, naive_zone=naive_zone, local_zone=local_zone):
            if isinstance(item, Rejection):
                result.rows += item.row != 0  # a whole-file problem is not a row
                result.rejected.append(item)
            else:
                result.rows += 1
                yield Detention(**item[1])

    result.detentions = latest_versions(detentions())
    return result
