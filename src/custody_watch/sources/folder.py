"""A drop folder of CSV (``csv_folder``) or JSON Lines (``jsonl``) files.

When a file is read. Writers are expected to write elsewhere (or under a ``.tmp`` or
``.partial`` name, never read) and rename the finished file into place. For writers that do
not, a file is read only once it has settled: its modification time is at least
``settle_time`` (default 10 s) before ``now``, the poll's clock. The two ways a finished
file arrives both work:

- written in place: every write moves its mtime, so it is read ``settle_time`` after the
  last write (a writer that pauses longer than that mid-file is not protected; it should
  write under a ``.partial`` name);
- renamed into place: a rename keeps the mtime the writer left, so a file written some
  time ago and then renamed is read at once; one renamed straight after being written
  waits out the rest of ``settle_time`` from its last write.

Judging by the mtime keeps nothing in memory, so a restart judges every file the same way.
When the clock is not the file system's (a simulated or frozen clock, as ``run --once
--now`` and tests use, or a file server whose clock is ahead), ``now`` can be before a
file's mtime and its age cannot be told; then, as for ``settle_time = "0s"``, a short
check stands in: the file is stat-ed, the source waits ``settle`` seconds, and a file whose
size or mtime changed meanwhile is left for the next poll.

How a file is read. A file is identified by name plus content hash (found in one pass that
also checks the bytes are UTF-8), so a file that changes after it was read is read again as
a new batch (ingest keeps the latest version of each detention). It is then read as a
stream, a chunk of ``chunk_rows`` rows at a time (``ingest.chunks``), and each chunk is one
batch: memory holds a chunk or two, whatever the file's size. Only the file's last batch
carries its key, and the store marks the file read with that batch, so a file is marked
read only once all its rows are stored; a crash or a failed store part way re-reads the
whole file (storing a version again changes nothing). One poll delivers at most about
``chunk_rows`` rows and says ``more`` when it stopped short, so a big file streams over
several polls, with the rest of the daemon's cycle running between them.

A problem of the whole file (not UTF-8, no header row, a column named twice) is one row-0
rejection naming the file, and the file is marked read, so it is reported once."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from custody_watch.config.model import FolderSource
from custody_watch.ingest.chunks import FeedChunk, line_chunks
from custody_watch.ingest.files import FeedFormat, file_lines, scan_file
from custody_watch.sources.base import Batch, PollResult, SeenKeys, Sleep, SourceError, SourceRow

Kind = Literal["csv_folder", "jsonl"]

SUFFIXES: Mapping[Kind, str] = {"csv_folder": ".csv", "jsonl": ".jsonl"}
FORMATS: Mapping[Kind, FeedFormat] = {"csv_folder": "csv", "jsonl": "jsonl"}
# Names writers use while a file is still being written; never read.
IN_PROGRESS = (".tmp", ".partial")
DEFAULT_SETTLE = 0.2
DEFAULT_SETTLE_TIME = timedelta(seconds=10)
# Rows a chunk holds, and about the most one poll delivers: a few megabytes of rows in
# memory, and a cycle of the daemon between one such slice of a big file and the next.
CHUNK_ROWS = 5000


@dataclass(frozen=True, slots=True)
class _Stamp:
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Read:
    """A file this process has read: its stamp then, its key, and whether the store has
    confirmed it (once stored, it stays stored: no need to ask again every poll)."""

    stamp: _Stamp
    key: str
    stored: bool = False


@dataclass(slots=True)
class _Cursor:
    """A file part way through being read: its chunks still to come, one looked ahead so
    that the last batch is known (it carries the key)."""

    name: str
    path: Path
    label: str
    stamp: _Stamp
    key: str
    chunks: Iterator[FeedChunk]
    ahead: FeedChunk | None


class DropFolder:
    """Reads each finished file in a folder once, in name order."""

    def __init__(
        self,
        name: str,
        path: Path,
        kind: Kind,
        *,
        settle: float = DEFAULT_SETTLE,
        settle_time: timedelta = DEFAULT_SETTLE_TIME,
        chunk_rows: int = CHUNK_ROWS,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.name = name
        self.path = path
        self.kind = kind
        self._suffix = SUFFIXES[kind]
        self._format = FORMATS[kind]
        self._settle = settle
        self._settle_time = settle_time
        self._chunk_rows = max(1, chunk_rows)
        self._sleep = sleep
        # Files already read: an unchanged file that was stored need not be read and hashed
        # again on every poll. Only a cache: a restart reads and hashes each file once more.
        self._read: dict[str, _Read] = {}
        self._cursor: _Cursor | None = None

    @classmethod
    def from_settings(
        cls, settings: FolderSource, *, env: Mapping[str, str], sleep: Sleep
    ) -> DropFolder:
        return cls(
            settings.name,
            Path(settings.path),
            settings.kind,
            settle_time=settings.settle_time,
            sleep=sleep,
        )

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        """The next rows of settled, unread files (about ``chunk_rows`` at most; ``more``
        when there are others ready); the watermark is not used (files carry their own
        identity) and is passed through."""
        listing = self._listing()
        self._forget_all_but({path.name for path in listing})
        batches: list[Batch] = []
        problems: list[str] = []
        budget = self._chunk_rows
        cursor = self._cursor
        if cursor is not None:
            if _stamp_or_none(cursor.path) == cursor.stamp:
                budget = self._continue(cursor, batches, problems, budget)
            else:  # changed under us: judged again as a new file once it settles
                self._drop_cursor()
                self._read.pop(cursor.name, None)
        # The file a cursor was on this poll is not started again (finished, it is not yet
        # marked read; changed, it is judged afresh on the next poll).
        busy = {c.name for c in (cursor, self._cursor) if c is not None}
        candidates = self._settled(
            (
                (path, stamp)
                for path, stamp in self._stamped(listing)
                if path.name not in busy and not self._already_read(path.name, stamp, seen)
            ),
            now,
        )
        for path, stamp in candidates:
            if budget <= 0 or self._cursor is not None:
                return PollResult(batches, watermark, problems, more=True)
            budget = self._start(path, stamp, seen, batches, problems, budget)
        return PollResult(batches, watermark, problems, more=self._cursor is not None)

    def _settled(
        self, stamped: Iterator[tuple[Path, _Stamp]], now: datetime
    ) -> list[tuple[Path, _Stamp]]:
        """The files that have settled (see the module's doc), in name order."""
        aged: list[tuple[Path, _Stamp]] = []
        unjudged: list[tuple[Path, _Stamp]] = []
        for path, stamp in stamped:
            mtime = datetime.fromtimestamp(stamp.mtime_ns / 1e9, UTC)
            if mtime > now or not self._settle_time:
                unjudged.append((path, stamp))
            elif now - mtime >= self._settle_time:
                aged.append((path, stamp))
        if unjudged and self._settle > 0:
            self._sleep(self._settle)
        still = [(path, stamp) for path, stamp in unjudged if _stamp_or_none(path) == stamp]
        return sorted(aged + still, key=lambda item: item[0].name)

    def _start(
        self,
        path: Path,
        stamp: _Stamp,
        seen: SeenKeys,
        batches: list[Batch],
        problems: list[str],
        budget: int,
    ) -> int:
        label = storable_name(path.name)
        try:
            digest, bad = scan_file(path)
        except OSError as exc:
            problems.append(f"{label}: cannot be read ({exc.strerror or exc})")
            return budget
        if _stamp_or_none(path) != stamp:
            return budget  # still being written: the next poll looks again
        key = f"{label}:{digest}"
        read = self._read[path.name] = _Read(stamp, key)
        read.stored = seen.seen(key)  # same bytes under the same name, stored
        if read.stored:
            return budget
        if bad is not None:
            problem = f"file: {label}: not UTF-8 text (bad byte at offset {bad})"
            batches.append(Batch(label, [SourceRow(0, {}, "", problem)], key))
            return budget - 1
        chunks = line_chunks(file_lines(path, self._format), self._format, self._chunk_rows)
        cursor = _Cursor(path.name, path, label, stamp, key, chunks, None)
        self._cursor = cursor
        try:
            cursor.ahead = next(chunks, None)
        except (OSError, UnicodeDecodeError) as exc:
            self._reading_failed(cursor, exc, problems)
            return budget
        return self._continue(cursor, batches, problems, budget)

    def _continue(
        self, cursor: _Cursor, batches: list[Batch], problems: list[str], budget: int
    ) -> int:
        """Batches of the cursor's file while the budget lasts; the last one carries the
        key and ends the cursor."""
        while budget > 0:
            chunk = cursor.ahead
            try:
                cursor.ahead = next(cursor.chunks, None) if chunk is not None else None
            except (OSError, UnicodeDecodeError) as exc:
                self._reading_failed(cursor, exc, problems)
                return budget
            last = cursor.ahead is None
            rows = (
                [] if chunk is None else [_naming_file(row, cursor.label) for row in chunk.rows()]
            )
            if last and _stamp_or_none(cursor.path) != cursor.stamp:
                # Written to while it was read: what was read may not be what was hashed,
                # so it is not marked read under that key; it is read again once settled.
                batches.append(Batch(cursor.label, rows, None))
                self._drop_cursor()
                self._read.pop(cursor.name, None)
                break
            batches.append(Batch(cursor.label, rows, cursor.key if last else None))
            budget -= max(1, len(rows))
            if last:
                self._cursor = None
                break
        return budget

    def _reading_failed(self, cursor: _Cursor, exc: BaseException, problems: list[str]) -> None:
        # The file changed or went away after it was checked. Nothing of it is marked read,
        # so it is read again, whole, once it has settled.
        self._drop_cursor()
        self._read.pop(cursor.name, None)
        if isinstance(exc, OSError) and cursor.path.exists():
            problems.append(f"{cursor.label}: cannot be read ({exc.strerror or exc})")

    def _drop_cursor(self) -> None:
        if self._cursor is not None:
            close = getattr(self._cursor.chunks, "close", None)
            if close is not None:
                close()
            self._cursor = None

    def _listing(self) -> list[Path]:
        try:
            entries = sorted(self.path.iterdir(), key=lambda p: p.name)
        except FileNotFoundError:
            raise SourceError(f"{self.name}: folder {self.path} does not exist") from None
        except NotADirectoryError:
            raise SourceError(f"{self.name}: {self.path} is not a folder") from None
        except OSError as exc:
            raise SourceError(
                f"{self.name}: folder {self.path} cannot be listed ({exc.strerror or exc})"
            ) from None
        return [path for path in entries if self._wanted(path.name)]

    def _wanted(self, name: str) -> bool:
        lower = name.lower()
        return (
            not name.startswith(".")
            and not lower.endswith(IN_PROGRESS)
            and lower.endswith(self._suffix)
        )

    def _stamped(self, paths: list[Path]) -> Iterator[tuple[Path, _Stamp]]:
        for path in paths:
            try:
                if path.is_file():
                    yield path, _stamp(path)
            except OSError:
                continue  # vanished between listing and stat

    def _already_read(self, name: str, stamp: _Stamp, seen: SeenKeys) -> bool:
        known = self._read.get(name)
        if known is None or known.stamp != stamp:
            return False
        known.stored = known.stored or seen.seen(known.key)
        return known.stored

    def _forget_all_but(self, present: set[str]) -> None:
        """Drop cache entries of files no longer in the folder, so the cache stays bounded."""
        for name in [name for name in self._read if name not in present]:
            del self._read[name]
        if self._cursor is not None and self._cursor.name not in present:
            self._drop_cursor()


def storable_name(name: str) -> str:
    """A file name as every database stores it: bytes that were not UTF-8 (which Python
    decodes to lone surrogates) written as escapes."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _naming_file(row: SourceRow, label: str) -> SourceRow:
    """A whole-file problem (row 0) names its file: ``header: NAME: ...``."""
    if row.number != 0 or row.problem is None:
        return row
    field, _, reason = row.problem.partition(": ")
    return row._replace(problem=f"{field}: {label}: {reason}")


def _stamp(path: Path) -> _Stamp:
    info = path.stat()
    return _Stamp(info.st_size, info.st_mtime_ns)


def _stamp_or_none(path: Path) -> _Stamp | None:
    try:
        return _stamp(path)
    except OSError:
        return None
