"""What a rule says about a detention at an instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that holds for a detention as of an instant.

    ``since`` is the instant the current severity's threshold was reached (UTC), which may
    fall before arrival. ``detail`` is free text for people."""

    custody_ref: str
    rule: str
    severity: Severity
    since: datetime
    detail: str

    def sort_key(self) -> tuple[int, datetime, str, str]:
        """The contract's order: highest severity, then earliest since, then ref, then rule."""
        return (-self.severity.rank, self.since, self.custody_ref, self.rule)
