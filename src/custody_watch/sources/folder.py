"""A drop folder of CSV (``csv_folder``) or JSON Lines (``jsonl``) files.

Writers are expected to write elsewhere (or under a ``.tmp``/``.partial`` name) and rename
the finished file into place. Two guards cover writers that do not: a file whose size or
modification time changes during a short settle check is left for the next poll, and a
file is identified by name plus content hash, so a file that changes after it was read is
read again as a new batch (ingest keeps the latest version of each detention)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from custody_watch.config.model import FolderSource
from custody_watch.ingest.rows import SourceRow, csv_rows, jsonl_rows
from custody_watch.sources.base import Batch, PollResult, SeenKeys, Sleep, SourceError

Kind = Literal["csv_folder", "jsonl"]

SUFFIXES: Mapping[Kind, str] = {"csv_folder": ".csv", "jsonl": ".jsonl"}
# Names writers use while a file is still being written; never read.
IN_PROGRESS = (".tmp", ".partial")
DEFAULT_SETTLE = 0.2


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


class DropFolder:
    """Reads each finished file in a folder once, in name order."""

    def __init__(
        self,
        name: str,
        path: Path,
        kind: Kind,
        *,
        settle: float = DEFAULT_SETTLE,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.name = name
        self.path = path
        self.kind = kind
        self._suffix = SUFFIXES[kind]
        self._settle = settle
        self._sleep = sleep
        # Files already read: an unchanged file that was stored need not be read and hashed
        # again on every poll. Only a cache: a restart reads and hashes each file once more.
        self._read: dict[str, _Read] = {}
        # Files whose bytes are not UTF-8, as stamped when reported: reported once, not on
        # every poll, until the file changes (or the process restarts).
        self._not_text: dict[str, _Stamp] = {}

    @classmethod
    def from_settings(
        cls, settings: FolderSource, *, env: Mapping[str, str], sleep: Sleep
    ) -> DropFolder:
        return cls(settings.name, Path(settings.path), settings.kind, sleep=sleep)

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        """Every finished, unread file; the watermark is not used (files carry their own
        identity) and is passed through."""
        listing = self._listing()
        self._forget_all_but({path.name for path in listing})
        candidates = {
            path: stamp
            for path, stamp in self._stamped(listing)
            if self._not_text.get(path.name) != stamp
            and not self._already_read(path.name, stamp, seen)
        }
        if candidates and self._settle > 0:
            self._sleep(self._settle)
        batches: list[Batch] = []
        problems: list[str] = []
        for path, before in candidates.items():
            try:
                after = _stamp(path)
            except OSError:
                continue  # renamed away or deleted meanwhile: nothing to read
            if after != before:
                continue  # still being written: the next poll looks again
            batch, problem = self._read_file(path, after)
            if problem is not None:
                problems.append(problem)
            elif batch is not None:
                read = self._read[path.name]
                read.stored = seen.seen(read.key)  # same bytes under the same name, stored
                if not read.stored:
                    batches.append(batch)
        return PollResult(batches=batches, watermark=watermark, problems=problems)

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

    def _read_file(self, path: Path, stamp: _Stamp) -> tuple[Batch | None, str | None]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return None, f"{path.name}: cannot be read ({exc.strerror or exc})"
        if len(data) != stamp.size:
            return None, None  # grew while we read it: next poll
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._not_text[path.name] = stamp
            return None, f"{path.name}: not UTF-8 text (bad byte at offset {exc.start})"
        key = f"{path.name}:{hashlib.sha256(data).hexdigest()}"
        self._read[path.name] = _Read(stamp, key)
        return Batch(label=path.name, rows=list(self._rows(text)), key=key), None

    def _rows(self, text: str) -> Iterator[SourceRow]:
        return csv_rows(text) if self.kind == "csv_folder" else jsonl_rows(text)

    def _forget_all_but(self, present: set[str]) -> None:
        """Drop cache entries of files no longer in the folder, so the cache stays bounded."""
        for name in [name for name in self._read if name not in present]:
            del self._read[name]
        for name in [name for name in self._not_text if name not in present]:
            del self._not_text[name]


def _stamp(path: Path) -> _Stamp:
    info = path.stat()
    return _Stamp(info.st_size, info.st_mtime_ns)
