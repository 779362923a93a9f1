"""What reading a feed produced: detentions (chosen versions) and rejected rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from custody_watch.domain import Detention


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that could not be read. ``error`` begins with the field's name and a colon."""

    row: int
    custody_ref: str | None
    error: str
    raw: str


@dataclass(slots=True)
class ReadResult:
    detentions: list[Detention] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    rows: int = 0
