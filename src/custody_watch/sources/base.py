"""The one small protocol every source kind implements.

A source turns the outside world into numbered rows of named values (the interchange
format's field names). It does not parse them, store them or judge them: ingest does that, so
a bad row is quarantined the same way whatever the source."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from custody_watch.errors import CustodyWatchError


class SourceRow(NamedTuple):
    """One row of a feed. A tuple (immutable, and the cheapest to make and to pickle: a
    backfill makes millions). ``typed``: the values carry JSON's types, so a number given
    as a string is not a number."""

    number: int
    values: Mapping[str, object]
    raw: str
    problem: str | None = None
    typed: bool = False


# How sources wait (settle checks, retry backoff); tests pass a function that records instead.
Sleep = Callable[[float], None]


class SourceError(CustodyWatchError):
    """A poll failed. ``transient`` says whether the next poll may succeed by itself."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows that arrived together: one file, one page, one query result.

    ``label`` names it for people (a file name, a URL). ``key`` identifies a file's content
    (name plus content hash) so that a file is read once; sources without files leave it
    None."""

    label: str
    rows: Sequence[SourceRow]
    key: str | None = None


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll found. ``watermark`` is stored only once the batches are stored, so a
    crash in between re-reads rather than loses rows."""

    batches: Sequence[Batch] = ()
    watermark: str | None = None
    # Files or pages that could not be read at all; each is reported, none blocks the rest.
    problems: Sequence[str] = field(default_factory=tuple)
    # The source stopped at a page limit and has more ready now: poll again without waiting
    # for the next interval (a large backlog streams page by page instead of all at once).
    more: bool = False


class SeenKeys(Protocol):
    def seen(self, key: str) -> bool:
        """Whether a batch with this key (file name plus content hash) was already read."""
        ...


class Source(Protocol):
    name: str

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        """Fetch what is new since ``watermark``. Raise ``SourceError`` when the whole poll
        failed (the source is down); report a single bad file in ``problems``."""
        ...
