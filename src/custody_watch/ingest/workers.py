"""Preparing a long feed's chunks in worker processes while the caller writes.

Reading and checking a row costs more than storing it, and Python runs one thread of it at
a time; so a backfill prepares chunks in other processes, a few ahead of the writer, and
the writer stores them in feed order. Workers are started with "spawn", which is safe
whatever threads the parent runs (a progress bar, a scheduler)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from custody_watch.ingest.chunks import FeedChunk
from custody_watch.ingest.prepare import Prepared, Zones, prepare_rows

MAX_WORKERS = 4


def default_workers() -> int:
    """One core is the writer's; the rest prepare (none on a single core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(MAX_WORKERS, (cores or 1) - 1))


def prepare_chunk(chunk: FeedChunk, zones: Zones) -> Prepared:
    return prepare_rows(chunk.rows(), zones)


class Preparers:
    """``workers`` processes that prepare chunks (none: the caller's own process does).

    A context manager: leaving it stops the workers, cancelling what has not started."""

    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self._pool = (
            ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
            if self.workers
            else None
        )

    def __enter__(self) -> Preparers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self) -> float:
        """Start every worker now rather than on the first chunk; returns the seconds it
        took (a fresh interpreter each, which a caller may want to report apart)."""
        started = time.perf_counter()
        if self._pool is not None:
            pids = [self._pool.submit(os.getpid) for _ in range(self.workers)]
            for future in pids:
                future.result()
        return time.perf_counter() - started

    def prepared(
        self, chunks: Iterable[FeedChunk], zones: Zones
    ) -> Iterator[tuple[FeedChunk, Prepared]]:
        """Each chunk with its prepared rows, in feed order. Up to two chunks per worker are
        in flight, so memory stays bounded however long the feed."""
        if self._pool is None:
            for chunk in chunks:
                yield chunk, prepare_chunk(chunk, zones)
            return
        pending: deque[tuple[FeedChunk, Future[Prepared]]] = deque()
        try:
            for chunk in chunks:
                pending.append((chunk, self._pool.submit(prepare_chunk, chunk, zones)))
                if len(pending) > 2 * self.workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:  # the caller stopped early, or a chunk failed
                future.cancel()
