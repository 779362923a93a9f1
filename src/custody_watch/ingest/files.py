"""Reading a whole feed (a file or its text) into a ``ReadResult``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path
from typing import Literal

from custody_watch.domain import Detention
from custody_watch.errors import InputError
from custody_watch.ingest.parse import read_each
from custody_watch.ingest.result import ReadResult, Rejection
from custody_watch.ingest.rows import SourceRow, csv_rows, jsonl_rows
from custody_watch.ingest.versions import latest_versions
from custody_watch.times import LONDON

FeedFormat = Literal["csv", "jsonl"]


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


def read_records_file(
    path: Path, *, naive_zone: tzinfo | None = None, local_zone: tzinfo = LONDON
) -> ReadResult:
    fmt = feed_format(path)
    return read_records_text(
        read_feed_text(path), fmt, naive_zone=naive_zone, local_zone=local_zone
    )


def read_records_text(
    text: str,
    fmt: FeedFormat,
    *,
    naive_zone: tzinfo | None = None,
    local_zone: tzinfo = LONDON,
) -> ReadResult:
    rows = csv_rows(text) if fmt == "csv" else jsonl_rows(text)
    result = read_rows(rows, naive_zone=naive_zone, local_zone=local_zone)
    result.detentions = latest_versions(result.detentions)
    return result


def read_rows(
    rows: Iterable[SourceRow], *, naive_zone: tzinfo | None, local_zone: tzinfo
) -> ReadResult:
    """Every row, read or rejected; versions are not yet chosen."""
    result = ReadResult()
    for item in read_each(rows, naive_zone=naive_zone, local_zone=local_zone):
        result.rows += 1
        if isinstance(item, Rejection):
            result.rejected.append(item)
        else:
            result.detentions.append(Detention(**item[1]))
    return result
