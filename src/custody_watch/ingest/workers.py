"""Preparing a long feed's chunks in worker processes while the caller writes.

Reading and checking a row costs more than storing it, and Python runs one thread of it at
a time; so a backfill prepares chunks in other processes, a few ahead of the writer, and
the writer stores them in feed order. Workers are started with "spawn", which is safe
whatever threads the parent runs (a progress bar, a scheduler)."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from custody_watch.ingest.chunks import FeedChunk
from custody_watch.ingest.prepare import Prepared, Zones, prepare_rows

MAX_WORKERS = 4


def default_workers() -> int:
    """One core is the writer's; the rest prepare (none on a single core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(MAX_WORKERS, (cores or 1) - 1))


def prepare_chunk(chunk: FeedChunk, zones: Zones) -> Prepared:
    return prepare_rows(chunk.rows(), zones)


def prepared_chunks(
    chunks: Iterable[FeedChunk], zones: Zones, workers: int
) -> Iterator[tuple[FeedChunk, Prepared]]:
    """Each chunk with its prepared rows, in feed order.

    With ``workers`` > 0, up to two chunks per worker are in flight, so memory stays bounded
    however long the feed. Closing the iterator early cancels what has not started."""
    if workers <= 0:
        for chunk in chunks:
            yield chunk, prepare_chunk(chunk, zones)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    pending: deque[tuple[FeedChunk, Future[Prepared]]] = deque()
    try:
        for chunk in chunks:
            pending.append((chunk, pool.submit(prepare_chunk, chunk, zones)))
            if len(pending) > 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
