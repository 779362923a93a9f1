"""``evaluate``'s choice of one version of each detention (``versions.replaces``) as the rows
of a file go by, and the rules' work over the chosen ones, in memory the same for any length
of file.

Held in memory up to ``SPILL_FROM`` versions (rows accepted; they bound the detentions), or
from the first row on disk when the caller says so (``assess_file`` does for a big file): a
file of 100,000 records stays in memory, so it is read as fast as ever. Beyond, everything
chosen so far moves to a SQLite database in a temporary folder, which then does the choosing
(an upsert whose condition is ``versions.replaces`` itself), keeps the order of first
appearance (``seq``) and finds the person's other records (an index on ``person_ref``, made
once every version is in). The process then holds a bounded page cache and a chunk of rows,
not a value per detention, and the jobs are read back a batch at a time.

Weighed and not taken (bench/README.md, "evaluate memory"): spill files cut by a hash of
``custody_ref`` choose versions in bounded memory too, but the jobs' order (first appearance
over the whole file) and the person's other records (across partitions) would then need a
second partitioning and a merge, which SQLite does with its two indexes.

A version arrives as ``(row, custody_ref, updated_at, person_ref, arrival, fields)``: from a
worker process its instants are microseconds since 1970 and its fields pickled bytes; read in
this process they are datetimes (in their own offset) and a dict. On disk ``updated_at`` is
microseconds since 1970 either way (it is only compared, and exactly: an instant is the same
whatever its offset), and the arrival and fields are kept as they came (a datetime or a dict
pickled), so the jobs given back are the same values as from memory."""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from custody_watch.ingest.versions import replaces
from custody_watch.times import to_micros

# Versions (accepted rows) chosen in memory before the chosen ones move to disk, when the
# caller does not decide (``assess_file.spill_from_for`` sends a big file to disk from its
# first row): the bound for a smaller file of very short rows. 250,000 held cost about 75 MB
# (about 300 bytes each), so such a file stays under 150 MiB; a file of 100,000 records,
# even with as many versions again, never gets there.
SPILL_FROM = 250_000
CACHE_KIB = 1_024  # SQLite's page cache once spilled (its other memory is a few hundred KiB)


# One chosen detention for the rules: (its fields, pickled or not; the arrivals of the
# person's other chosen records, in order of first appearance).
Job = tuple[Any, list[Any]]

_SCHEMA = """
CREATE TABLE chosen (
    seq INTEGER PRIMARY KEY,   -- the order of first appearance
    ref TEXT NOT NULL UNIQUE,  -- custody_ref
    updated INTEGER,           -- updated_at in microseconds since 1970, NULL when none
    person TEXT,
    arrival,                   -- microseconds (from a worker) or a datetime, pickled
    fields BLOB                -- pickled, NULL when no rule can find anything in it
)
"""
_INSERT = (
    "INSERT INTO chosen (seq, ref, updated, person, arrival, fields) VALUES (?, ?, ?, ?, ?, ?)"
)
_UPSERT = f"""
{_INSERT}
ON CONFLICT (ref) DO UPDATE SET
    updated = excluded.updated, person = excluded.person, arrival = excluded.arrival,
    fields = excluded.fields
WHERE replaces(chosen.updated, excluded.updated)
"""


class Chooser:
    """One version of each custody_ref, in order of first appearance: ``take`` the accepted
    rows of each chunk in feed order, then ``batches`` of the rules' jobs. A context manager:
    leaving it removes what went to disk."""

    def __init__(self, spill_from: int | None = None) -> None:
        self.spill_from = SPILL_FROM if spill_from is None else spill_from
        # custody_ref -> (updated_at, person_ref, arrival, fields or None), until spilled
        self.best: dict[str, tuple[Any, str | None, Any, Any]] = {}
        self.disk: _Disk | None = None
        self.versions = 0  # taken in memory: they bound the detentions held

    def __enter__(self) -> Chooser:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()

    @property
    def spilled(self) -> bool:
        return self.disk is not None

    def take(self, accepted: Sequence[Sequence[Any]]) -> None:
        """Versions in feed order: (row, custody_ref, updated_at, person_ref, arrival,
        fields or None)."""
        if self.disk is not None:
            self.disk.take(accepted)
            return
        room = self.spill_from - self.versions
        if len(accepted) > room:  # one version too many: up to it here, the rest on disk
            self._choose(accepted[:room])
            self.disk = _Disk()
            self.disk.put(self.best)
            self.best = {}
            self.disk.take(accepted[room:])
            return
        self._choose(accepted)

    def _choose(self, accepted: Sequence[Sequence[Any]]) -> None:
        self.versions += len(accepted)
        best = self.best
        for _row, ref, updated, person, arrival, fields in accepted:
            current = best.get(ref)
            if current is None or replaces(current[0], updated):
                best[ref] = (updated, person, arrival, fields)

    @property
    def detentions(self) -> int:
        """Detentions chosen: one per custody_ref."""
        return len(self.best) if self.disk is None else self.disk.count()

    def batches(self, size: int) -> Iterator[list[Job]]:
        """The chosen detentions the rules can find anything in, in order of first
        appearance, ``size`` at a time, each with the arrivals of its person's other chosen
        records (repeat_detention: RULES.md, Precise reading 11)."""
        if self.disk is not None:
            yield from self.disk.batches(size)
            return
        best = self.best
        wanted = {v[1] for v in best.values() if v[3] is not None and v[1] is not None}
        people: dict[str, list[tuple[str, Any]]] = {}
        for ref, (_, person, arrival, _fields) in best.items():
            if person in wanted:
                people.setdefault(person, []).append((ref, arrival))
        batch: list[Job] = []
        for ref, (_, person, _arrival, fields) in best.items():
            if fields is None:
                continue
            others = (
                [at for other, at in people[person] if other != ref] if person is not None else []
            )
            batch.append((fields, others))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


class _Disk:
    """The chosen versions in a SQLite database of their own, in a temporary folder."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="custody-watch-evaluate-")
        self.db = sqlite3.connect(Path(self.folder.name) / "chosen.sqlite", isolation_level=None)
        self.db.create_function("replaces", 2, replaces, deterministic=True)
        # Nothing here outlives the process: no journal, no syncing, one writer.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.db.execute("PRAGMA temp_store = FILE")
        self.db.execute(_SCHEMA)
        self.db.execute("BEGIN")
        self.indexed = False
        self.next = 0  # the place in the order of first appearance the next version takes

    def close(self) -> None:
        self.db.close()
        self.folder.cleanup()

    def put(self, best: dict[str, tuple[Any, str | None, Any, Any]]) -> None:
        """The versions chosen in memory so far, emptying ``best`` as they go (from its last:
        its memory is given back while the database's grows)."""
        self.next = len(best)

        def emptied() -> Iterator[tuple[Any, ...]]:
            while best:
                ref, (updated, person, arrival, fields) = best.popitem()
                yield (len(best), ref, _micros(updated), person, _stored(arrival), _pickled(fields))

        self.db.executemany(_INSERT, emptied())  # one row each: no choosing to do

    def take(self, accepted: Sequence[Sequence[Any]]) -> None:
        """Versions in feed order; each is given the next place in the order of first
        appearance, which only a new custody_ref keeps."""
        start = self.next
        rows = [
            (start + i, ref, _micros(updated), person, _stored(arrival), _pickled(fields))
            for i, (_row, ref, updated, person, arrival, fields) in enumerate(accepted)
        ]
        self.next += len(rows)
        self.db.executemany(_UPSERT, rows)

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chosen").fetchone()[0])

    def batches(self, size: int) -> Iterator[list[Job]]:
        if not self.indexed:  # once every version is in: cheaper than keeping it up meanwhile
            self.db.execute("CREATE INDEX chosen_person ON chosen (person)")
            self.db.execute("COMMIT")
            self.indexed = True
        rows = self.db.execute(
            "SELECT seq, person, fields FROM chosen WHERE fields IS NOT NULL ORDER BY seq"
        )
        while chunk := rows.fetchmany(size):
            yield [(fields, self.others(seq, person)) for seq, person, fields in chunk]

    def others(self, seq: int, person: str | None) -> list[Any]:
        """The arrivals of the person's other chosen records, in order of first appearance."""
        if person is None:
            return []
        found = self.db.execute(
            "SELECT arrival FROM chosen WHERE person = ? AND seq != ? ORDER BY seq",
            (person, seq),
        )
        return [_held(arrival) for (arrival,) in found]


def _micros(instant: Any) -> int | None:
    """updated_at as microseconds since 1970 (a worker's already are): exact, and ordered
    as the instants are whatever their offset."""
    if instant is None or type(instant) is int:
        return instant
    return to_micros(instant)


def _stored(arrival: Any) -> int | bytes:
    return arrival if type(arrival) is int else pickle.dumps(arrival, pickle.HIGHEST_PROTOCOL)


def _held(arrival: int | bytes) -> Any:
    return pickle.loads(arrival) if type(arrival) is bytes else arrival


def _pickled(fields: Any) -> bytes | None:
    if fields is None or type(fields) is bytes:
        return fields
    return pickle.dumps(fields, pickle.HIGHEST_PROTOCOL)
