"""A rule's answer before the instant is applied: the severities it climbs and when.

A rule that holds returns an ``Assessment``: its steps (severity, threshold instant) and a
``detail`` writer. The engine picks the highest step reached; the first step not yet reached
is when the finding can next change, which is how the daemon knows when to wake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from custody_watch.domain import Finding, Severity
from custody_watch.rules.instants import NEVER

Step = tuple[Severity, datetime]


@dataclass(frozen=True, slots=True)
class Assessment:
    steps: tuple[Step, ...]
    detail: Callable[[Severity, datetime], str]

    def reached(self, now: datetime) -> Step | None:
        """The highest severity whose threshold is at or before ``now``."""
        done = [step for step in self.steps if step[1] <= now and step[1] < NEVER]
        return max(done, key=lambda step: step[0].rank) if done else None

    def next_step(self, now: datetime) -> datetime | None:
        ahead = [at for _, at in self.steps if now < at < NEVER]  # NEVER: no wake-up
        return min(ahead) if ahead else None

    def finding(self, custody_ref: str, rule: str, now: datetime) -> Finding | None:
        step = self.reached(now)
        if step is None:
            return None
        severity, since = step
        return Finding(custody_ref, rule, severity, since, self.detail(severity, since))


def single(severity: Severity, at: datetime, detail: str) -> Assessment:
    return Assessment(((severity, at),), lambda _severity, _since: detail)
