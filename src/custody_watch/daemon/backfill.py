"""Backfill: a whole feed file into the store, as fast as the store can take it.

The feed is cut into chunks of whole rows; worker processes read and check the chunks while
this process stores them in feed order, a few chunks a transaction (each chunk recorded as if
alone: ``poll.store_prepared_together``). A failure part-way leaves the transactions before
it stored; importing the file again is safe, because a version already
stored is recognised and not stored twice. A file imported in full is remembered by its
content, so that running the same import again (a backfill script re-run) does not
quarantine its rejected rows a second time."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from custody_watch.daemon.poll import store_prepared_together
from custody_watch.ingest.chunks import feed_chunks
from custody_watch.ingest.files import FeedFormat
from custody_watch.ingest.prepare import Zones
from custody_watch.ingest.workers import Preparers
from custody_watch.store import sources

CHUNK_ROWS = 2_000
# Chunks stored in one transaction (each chunk recorded as it arrives, so the workers keep
# working meanwhile): fewer commits, each of which rewrites the index pages its rows touched.
CHUNKS_A_TRANSACTION = 5
# Below this many characters (about 2,000 rows) starting worker processes costs more than
# it saves.
INLINE_BELOW = 1_000_000


def workers_for(characters: int, wanted: int) -> int:
    """How many worker processes a feed of ``characters`` is worth."""
    return wanted if characters >= INLINE_BELOW else 0


def content_key(data: bytes) -> str:
    """What a file is remembered by: its content, whatever it is called."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class EarlierImport:
    label: str
    at: datetime
    rows: int
    rejected: int


def imported_before(sessions: sessionmaker[Session], source: str, key: str) -> EarlierImport | None:
    with sessions() as session:
        row = sources.read_before(session, source, key)
        if row is None:
            return None
        return EarlierImport(row.label, row.received_at, row.rows, row.rejected)


def mark_imported(
    sessions: sessionmaker[Session],
    source: str,
    key: str,
    label: str,
    imported: Imported,
    now: datetime,
) -> None:
    with sessions.begin() as session:
        earlier = sources.read_before(session, source, key)
        if earlier is None:
            sources.mark_read(session, source, key, label, imported.rows, imported.rejected, now)
        else:  # imported again (--again): the record moves to the latest import
            earlier.label, earlier.received_at = label, now
            earlier.rows, earlier.rejected = imported.rows, imported.rejected


@dataclass(slots=True)
class Imported:
    rows: int = 0
    changed: int = 0  # detentions stored or updated
    rejected: int = 0


def import_feed(
    sessions: sessionmaker[Session],
    *,
    source: str,
    label: str,
    text: str,
    fmt: FeedFormat,
    zones: Zones,
    now: datetime,
    preparers: Preparers,
    progress: Callable[[int], None] = lambda characters: None,
    chunk_rows: int = CHUNK_ROWS,
    chunks_a_transaction: int = CHUNKS_A_TRANSACTION,
) -> Imported:
    """Store every row of ``text``, prepared by ``preparers``; ``progress`` hears how many
    characters each stored chunk took, for a progress bar over ``len(text)``."""
    imported = Imported()
    chunks = feed_chunks(text, fmt, chunk_rows)
    tagged = (((chunk, batch.rows), batch) for chunk, batch in preparers.prepared(chunks, zones))
    while group := store_prepared_together(
        sessions, source, label, itertools.islice(tagged, chunks_a_transaction), now
    ):
        for (chunk, rows), changed, rejected in group:
            imported.rows += rows
            imported.changed += changed
            imported.rejected += rejected
            progress(chunk.span)
    return imported
