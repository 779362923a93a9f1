"""``evaluate``'s reading of a feed file: rows read, versions chosen and every rule run, as a
stream, in worker processes when the file is big enough to pay for them.

The result is exactly what ``files.read_records_file`` followed by ``rules.assess`` over each
chosen detention gives (``cli.evaluate`` prints it), only cheaper:

- The file is read a block at a time and cut at line ends (a CSV record is one line,
  ``rows``), so a block's rows read alike wherever they are read; each block's rows are
  numbered from 1 and moved on by the rows before it.
- Held per detention: the chosen version's ``updated_at`` and arrival (integers when a
  worker sent them), its ``person_ref``, and its checked fields only when the rules can
  find anything in it as of
  ``now`` (``rules.engine.may_find``: in custody, or a child released by then); most records
  of a long file have left custody (or not arrived) and cost three small values.
- The rules run over those chosen detentions in a second pass (``repeat_detention`` needs
  the arrivals of every other record of the person first), a batch at a time, and give
  findings as plain tuples in the contract's order.

Anything out of the ordinary for the file as a whole (bytes that are not UTF-8, a header
that is no header, a file that cannot be read) raises ``NotPlain``: the caller reads it the
exact way, which says what is wrong (or reads what there is) as it always has."""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from itertools import compress, repeat
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Any

from custody_watch.domain import Detention
from custody_watch.ingest import csv_block
from custody_watch.ingest.chooser import Chooser, Job
from custody_watch.ingest.csv_block import (
    PlainBlock,
    block_reader,
    json_columns,
    odd_lines,
    plain_text,
)
from custody_watch.ingest.files import FeedFormat
from custody_watch.ingest.parse import RowError, csv_plan, csv_reader, in_utc, read_fields
from custody_watch.ingest.rows import (
    BOM,
    csv_block_entries,
    csv_lines,
    csv_plain_columns,
    csv_row_of,
    is_blank_csv_line,
    jsonl_line_rows,
    jsonl_lines,
    read_header,
    row_ref,
)
from custody_watch.rules import Policy, assess
from custody_watch.rules.engine import may_find
from custody_watch.rules.facts import age_from
from custody_watch.sources.base import SourceRow
from custody_watch.times import from_micros, to_micros

BLOCK_BYTES = 1 << 20  # a worker's chunk of the file
# Below this size worker processes cost more than they save (measured: bench/README.md,
# "evaluate"): the file is read in this process, a block at a time all the same.
WORKERS_FROM_BYTES = 3 << 20
# From this size a file's versions are chosen on disk from its first row (``spill_from_for``):
# about 270,000 generated records (245 bytes each), well past the 100,000 (about 25 MB) whose
# speed issue 15 times, so that file is never slowed by the disk, whatever its versions.
SPILL_FILE_BYTES = 64 << 20
EVALUATE_BATCH = 400  # detentions per batch of the rules' pass: a few batches a worker
_NEVER = 1 << 62  # microseconds since 1970 after any instant: arrives after any now

# A finding as a plain tuple (cheap to send between processes, sorts in the contract's
# order: highest severity, earliest since, then custody_ref, then rule):
# (-rank, since, custody_ref, rule, severity value, detail).
FindingRow = tuple[int, datetime, str, str, str, str]
# A rejected row: (row, custody_ref or None, error).
RejectedRow = tuple[int, str | None, str]
# A rule that raised: (custody_ref, rule, error).
FailureRow = tuple[str, str, str]


class NotPlain(Exception):
    """The file as a whole needs the exact reading (see the module's docstring)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read and assess: everything a worker needs, picklable."""

    fmt: FeedFormat
    naive_zone: tzinfo | None
    policy: Policy
    now: datetime
    header: str = ""  # CSV: the header line as written


@dataclass(slots=True)
class FileAssessment:
    detentions: int = 0  # chosen versions, one per custody_ref
    findings: list[FindingRow] = field(default_factory=list)  # in the contract's order
    rejected: list[RejectedRow] = field(default_factory=list)  # in row order
    failures: list[FailureRow] = field(default_factory=list)  # in detention order
    chunks: int = 0  # blocks of the file read apart
    workers: set[int] = field(default_factory=set)  # process ids that read a chunk
    spilled: bool = False  # the versions were chosen on disk (``ingest.chooser``)


# --- one chunk of rows (in a worker, or here) -------------------------------------------------

# An accepted row: (row, custody_ref, updated_at, person_ref, arrival, fields); updated_at
# None when the row has none, fields None when no rule can find anything in it as of now.
# From a worker, instants are microseconds since 1970 (an int pickles many times cheaper
# than a datetime) and the fields are pickled (they are only passed on).
Accepted = tuple[int, str, Any, str | None, Any, Any]


@dataclass(slots=True)
class ChunkResult:
    rows: int
    accepted: list[Accepted]
    rejected: list[RejectedRow]
    pid: int


def read_chunk(text: str | bytes, reading: Reading, pickled: bool = False) -> ChunkResult:
    """Every row of ``text`` (whole lines; bytes are decoded as UTF-8), numbered from 1."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError: the caller reads the exact way
    accepted: list[Accepted] = []
    rejected: list[RejectedRow] = []
    naive, zone, now, policy = reading.naive_zone, reading.policy.zone, reading.now, reading.policy

    def accept(
        number: int, ref: str, updated: Any, person: str | None, arrival: Any, kept: Any
    ) -> None:
        if pickled:  # to another process: integers and bytes, cheap to send
            accepted.append(
                (
                    number,
                    ref,
                    None if updated is None else to_micros(updated),
                    person,
                    to_micros(arrival),
                    None if kept is None else pickle.dumps(kept, pickle.HIGHEST_PROTOCOL),
                )
            )
        else:  # here: the instants themselves (they compare exactly, whatever their offset)
            accepted.append((number, ref, updated, person, arrival, kept))

    def take(number: int, fields: dict[str, Any]) -> None:
        arrival: datetime = fields["arrival_time"]
        start = fields.get("arrest_time") or arrival
        found = _may_find(arrival, fields.get("released_time"), fields.get("date_of_birth"),
                          start, policy, now)  # fmt: skip
        accept(
            number,
            fields["custody_ref"],
            fields.get("updated_at"),
            fields.get("person_ref"),
            arrival,
            in_utc(fields) if found else None,
        )

    def read(row: SourceRow) -> None:
        if row.problem is not None:
            rejected.append((row.number, row_ref(row), row.problem))
            return
        try:
            fields = read_fields(
                row.values, naive_zone=naive, local_zone=zone, typed=row.typed, utc=False
            )
        except RowError as exc:
            rejected.append((row.number, row_ref(row), str(exc)))
            return
        take(row.number, fields)

    if reading.fmt != "csv":
        # The decoded rows read a column at a time (csv_block.json_columns), as for CSV;
        # each row not vouched for, and each a rule may look at, read on its own.
        rows = list(jsonl_line_rows(jsonl_lines(text)))
        for source_row in rows:
            if source_row.problem is not None:
                read(source_row)
        good = [source_row for source_row in rows if source_row.problem is None]
        names, by_column, bad = json_columns([source_row.values for source_row in good])
        block = _json_block_reader(tuple(names), zone)(by_column, bad)
        each = _accepted_rows([row.number for row in good], block, pickled)
        for i in sorted(bad.union(_found(block, policy, now))):
            del accepted[:]
            read(good[i])
            each[i] = accepted[0] if accepted else None
        rejected.sort(key=itemgetter(0))  # the rows that could not be read, in row order
        kept = [row for row in each if row is not None] if None in each else each
        return ChunkResult(rows[-1].number if rows else 0, kept, rejected, os.getpid())

    header, read_plain, read_block = _csv_readers(reading.header, zone)
    count = len(header)
    # The block cut into cells and read a column at a time (csv_block); each row it cannot
    # vouch for, and each a rule may look at, is then read on its own as before.
    entries = None
    columns = csv_plain_columns(text, count)
    if columns is not None:  # every line a row of one cell per column
        bad = set() if plain_text(text) else odd_lines(text.split("\n"))
        numbers: Sequence[int] = range(1, len(columns[0]) + 1)
    else:
        entries = csv_block_entries(header, text)
        columns, bad = _entry_columns(entries, count)
        numbers = [entry[0] for entry in entries]
    block = read_block(columns, bad)
    each = _accepted_rows(numbers, block, pickled)
    row: SourceRow | None
    for i in sorted(bad.union(_found(block, policy, now))):
        if entries is None:
            cells = [column[i] for column in columns]
            line, row = ",".join(cells), None
        else:
            _, cells, line, row = entries[i]
        del accepted[:]
        if row is None:
            plain = None
            if not _quote_open(cells):
                plain = read_plain(cells, line)
            if plain is not None:
                take(numbers[i], plain)
            else:
                read(csv_row_of(header, cells, numbers[i]))
        else:
            read(row)
        each[i] = accepted[0] if accepted else None
    kept = [row for row in each if row is not None] if None in each else each
    return ChunkResult(numbers[-1] if numbers else 0, kept, rejected, os.getpid())


def _accepted_rows(numbers: Sequence[int], block: PlainBlock, pickled: bool) -> list[Any]:
    """One accepted row per row of the block, as ``accept`` makes them (the rows read on
    their own are put in their places after)."""
    updated, arrived = block.updated, block.arrivals
    if pickled:
        updated, arrived = block.updated_us, block.arrival_us
    return list(zip(numbers, block.refs, updated, block.persons, arrived, repeat(None)))


@lru_cache(maxsize=64)
def _json_block_reader(names: tuple[str, ...], zone: tzinfo) -> Callable[..., PlainBlock]:
    return block_reader(csv_plan(names), zone)


def _entry_columns(
    entries: list[tuple[int, list[str], str, SourceRow | None]], count: int
) -> tuple[list[Any], set[int]]:
    """The cells of a block's rows a column at a time, and the rows that cannot be plain
    (not one cell per column, a quote open, or an odd line): those hold empty cells."""
    filler = [""] * count
    rows = []
    bad = csv_block.odd_lines([entry[2] for entry in entries])
    for i, (_number, cells, _line, row) in enumerate(entries):
        if row is None and len(cells) == count and not _quote_open(cells):
            rows.append(cells)
        else:
            rows.append(filler)
            bad.add(i)
    return [list(column) for column in zip(*rows, strict=True)] or [[]] * count, bad


def _found(block: PlainBlock, policy: Policy, now: datetime) -> list[int]:
    """The plain rows of ``block`` a rule may find anything in as of ``now`` (may_find).
    Most rows of a long file had not arrived by then, or were released as adults: the
    first are left out a whole column at a time, and the rest asked row by row."""
    arrivals, born, arrests = block.arrivals, block.born, block.arrests
    arrival_us, released_us = block.arrival_us, block.released_us
    given = [at for at in arrival_us if at is not None]
    if not given:
        return []
    first = arrivals[arrival_us.index(min(given))]
    # Born in or before this year: twenty years or more before any arrest or arrival of the
    # block (whose local years are within two of the first arrival's; an arrest is not
    # before it by a year), an adult (_is_child).
    adult_by = first.year - 4 - 20
    now_us = to_micros(now)
    if len(given) < len(arrival_us):
        arrival_us = [_NEVER if at is None else at for at in arrival_us]
    found = []
    plain = block.plain
    for i in compress(range(len(arrival_us)), map(now_us.__ge__, arrival_us)):  # arrived
        if not plain[i]:
            continue
        out, day = released_us[i], born[i]
        if out is not None and day is not None and day.year <= adult_by and out <= now_us:
            continue  # released by now, an adult: nothing to find
        arrival = arrivals[i]
        child = _is_child(day, arrests[i] or arrival, policy)
        if may_find(arrival, block.released[i], child, policy, now):
            found.append(i)
    return found


def _quote_open(cells: list[str]) -> bool:
    """The last cell took the line end in: its quote was still open (``rows.csv_row_of``)."""
    return bool(cells) and cells[-1].endswith(("\n", "\r"))


@lru_cache(maxsize=8)
def _csv_readers(
    header_line: str, zone: tzinfo
) -> tuple[list[str], Callable[[list[str], str], Any], Callable[..., PlainBlock]]:
    """A header's names and its compiled readings, made once per process (a worker reads
    many blocks of one file)."""
    header = read_header(header_line)[0]
    plan = csv_plan(header)
    return header, csv_reader(plan, zone), block_reader(plan, zone)


def _may_find(
    arrival: datetime,
    released: datetime | None,
    born: date | None,
    start: datetime,
    policy: Policy,
    now: datetime,
) -> bool:
    if arrival > now:
        return False  # not arrived: no rule applies (may_find, without working out an age)
    return may_find(arrival, released, _is_child(born, start, policy), policy, now)


def _is_child(born: date | None, start: datetime, policy: Policy) -> bool:
    """``Facts.is_child`` of a record born then and arrested (else arrived) at ``start``:
    under 18 on the local date of arrest (else arrival), or of unknown age. Twenty years
    apart or more is an adult and sixteen or fewer a child on any date of those years (the
    local year is within one of the UTC year); nearer, the exact age decides."""
    if born is None:
        return True
    years = start.year - born.year
    if years >= 20:
        return False
    if years <= 16:
        return True
    try:
        age = age_from(born, start.astimezone(UTC), policy.zone)
    except Exception:
        return True
    return age is None or age < 18


def _read_chunk_in_worker(text: bytes, reading: Reading) -> ChunkResult:
    return read_chunk(text, reading, pickled=True)


# --- the rules over the chosen detentions ------------------------------------------------------


def assess_batch(jobs: Sequence[Job], policy: Policy, now: datetime) -> list[Any]:
    """Findings and failures of each job, in order: a list of (findings, failures)."""
    out = []
    for fields, others in jobs:
        if isinstance(fields, bytes):
            fields = pickle.loads(fields)
        detention = Detention(**fields)
        evaluation = assess(
            detention,
            policy,
            now,
            same_person_arrivals=[from_micros(at) if type(at) is int else at for at in others],
            wake_times=False,
        )
        findings = [
            (-f.severity.rank, f.since, f.custody_ref, f.rule, f.severity.value, f.detail)
            for f in evaluation.findings
        ]
        failures = [(detention.custody_ref, f.rule, f.error) for f in evaluation.failed]
        out.append((findings, failures))
    return out


# --- the whole file ----------------------------------------------------------------------------


def assess_file(
    path: Path,
    fmt: FeedFormat,
    *,
    naive_zone: tzinfo | None,
    policy: Policy,
    now: datetime,
    workers: int | None = None,
) -> FileAssessment:
    """The file read and assessed; ``workers`` None: as many as the file is worth
    (``workers_for``). Raises ``NotPlain`` (see the module's docstring)."""
    # The cyclic garbage collector is off meanwhile (and so in the workers, which are forked
    # here): nothing made here refers to itself, and with a hundred thousand detentions
    # held its walks over them cost a fifth of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _assess_file(path, fmt, naive_zone, policy, now, workers)
    finally:
        if collecting:
            gc.enable()


def _assess_file(
    path: Path,
    fmt: FeedFormat,
    naive_zone: tzinfo | None,
    policy: Policy,
    now: datetime,
    workers: int | None,
) -> FileAssessment:
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            blocks = _blocks(stream.read)
            header = _header(blocks, fmt)
            reading = Reading(fmt, naive_zone, policy, now, header)
            count = workers_for(size) if workers is None else workers
            spill_from = spill_from_for(size)
            if count == 0:
                return _assess(blocks, reading, None, 0, spill_from)
            pool = ProcessPoolExecutor(count, mp_context=get_context("fork"))
            try:
                return _assess(blocks, reading, pool, count, spill_from)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    except (OSError, UnicodeDecodeError):
        raise NotPlain from None


def spill_from_for(size: int) -> int | None:
    """Versions chosen in memory before the rest go to disk (``ingest.chooser``), decided
    by the file's size before the first row: a big file is chosen on disk from its first
    row, so its memory stays below what a file under ``SPILL_FILE_BYTES`` holds at its end
    (memory the same for any length, issue 15); a smaller file is chosen in memory, as
    fast as it can be, up to the chooser's own bound (``chooser.SPILL_FROM``, for files of
    very short rows). Deciding by the row count alone put the cliff at a row count: a
    file just past it paid to move everything chosen so far to disk."""
    return 0 if size >= SPILL_FILE_BYTES else None


def workers_for(size: int) -> int:
    """Worker processes for a file of ``size`` bytes: one a core (this process only hands
    out blocks and keeps the chosen versions), none for a small file."""
    if size < WORKERS_FROM_BYTES:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(4, cores or 1)) if (cores or 1) > 1 else 0


class _Blocks:
    """The file's bytes in blocks that end at a line end (the last one wherever the file
    does), with a first block put back when the header has been taken from it."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read
        self.rest = b""
        self.first = True
        self.pushed: bytes | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self.pushed is not None:
            block, self.pushed = self.pushed, None
            return block
        while True:
            data = self.read(BLOCK_BYTES)
            if self.first:
                self.first = False
                data = data.removeprefix(BOM.encode())
            if not data:
                if self.rest:
                    block, self.rest = self.rest, b""
                    return block
                raise StopIteration
            data = self.rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line end yet: a long line, read on
                self.rest = data
                continue
            self.rest = data[cut:]
            return data[:cut]


def _blocks(read: Callable[[int], bytes]) -> _Blocks:
    return _Blocks(read)


def _header(blocks: _Blocks, fmt: FeedFormat) -> str:
    """CSV: the header line (the first that is not blank), taken off the first blocks; the
    rest of its block is put back. ``NotPlain`` when it is no header."""
    if fmt != "csv":
        return ""
    for block in blocks:
        text = block.decode("utf-8")
        taken = 0
        for line in csv_lines(text):
            taken += len(line)
            if is_blank_csv_line(line):
                continue
            if read_header(line)[1] is not None:
                raise NotPlain
            rest = text[taken:].encode("utf-8")
            if rest:
                blocks.pushed = rest
            return line
    return ""  # no header and no rows: nothing to read


def _assess(
    blocks: _Blocks,
    reading: Reading,
    pool: Executor | None,
    workers: int = 0,
    spill_from: int | None = None,
) -> FileAssessment:
    result = FileAssessment()
    with Chooser(spill_from) as chooser:  # a big file on disk: memory the same for any length
        before = 0  # rows in the chunks before this one
        for chunk in _chunk_results(blocks, reading, pool, workers):
            result.chunks += 1
            result.workers.add(chunk.pid)
            result.rejected.extend((row + before, ref, error) for row, ref, error in chunk.rejected)
            chooser.take(chunk.accepted)
            before += chunk.rows
        result.detentions = chooser.detentions
        result.spilled = chooser.spilled
        batches = chooser.batches(EVALUATE_BATCH)
        for findings, failures in _assessed(batches, reading, pool, workers):
            result.findings.extend(findings)
            result.failures.extend(failures)
    result.findings.sort()
    return result


def _chunk_results(
    blocks: _Blocks, reading: Reading, pool: Executor | None, workers: int
) -> Iterator[ChunkResult]:
    if pool is None:
        for block in blocks:
            yield read_chunk(block, reading)
        return
    yield from _in_order(
        (pool.submit(_read_chunk_in_worker, block, reading) for block in blocks), 2 * workers
    )


def _assessed(
    batches: Iterator[list[Job]], reading: Reading, pool: Executor | None, workers: int
) -> Iterator[Any]:
    if pool is None:
        for batch in batches:
            yield from assess_batch(batch, reading.policy, reading.now)
        return
    futures = (pool.submit(assess_batch, batch, reading.policy, reading.now) for batch in batches)
    for results in _in_order(futures, 2 * workers):
        yield from results


def _in_order(futures: Iterator[Future[Any]], ahead: int) -> Iterator[Any]:
    """The futures' results in submission order, at most ``ahead`` in flight: memory stays
    bounded however long the file."""
    pending: list[Future[Any]] = []
    for future in futures:
        pending.append(future)
        if len(pending) > ahead:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()
