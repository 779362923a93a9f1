"""A rule's answer before the instant is applied: the severities it climbs and when.

A rule that holds returns an ``Assessment``: its steps (severity, threshold instant) and a
``detail`` writer. The engine picks the highest step reached; the first step not yet reached
is when the finding can next change, which is how the daemon knows when to wake.

The looked-after raise (RULES.md, v2) is applied here, to the steps, so that every rule gets
it the same way: each step one severity higher (``critical`` stays, ``info`` is never
raised), and ``since`` the first instant the raised severity was reached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from custody_watch.domain import Finding, Severity
from custody_watch.rules.instants import NEVER

Step = tuple[Severity, datetime]

_RAISED = {
    Severity.INFO: Severity.INFO,
    Severity.WARNING: Severity.HIGH,
    Severity.HIGH: Severity.CRITICAL,
    Severity.CRITICAL: Severity.CRITICAL,
}


def raised(severity: Severity) -> Severity:
    """One step higher for a looked-after child; ``info`` stays (digest only)."""
    return _RAISED[severity]


@dataclass(frozen=True, slots=True)
class Assessment:
    steps: tuple[Step, ...]
    detail: Callable[[Severity, datetime], str]
    # When the finding stops holding by itself, with no new data (referral_missing's 72
    # hours): a wake-up, like a threshold. None: only an event can clear it.
    ends: datetime | None = None

    def reached(self, now: datetime) -> Step | None:
        """The highest severity whose threshold is at or before ``now``, with the first
        instant it was reached."""
        done = [step for step in self.steps if step[1] <= now and step[1] < NEVER]
        if not done:
            return None
        top = max(severity for severity, _ in done)
        return top, min(at for severity, at in done if severity is top)

    def next_step(self, now: datetime, *, raise_: bool = False) -> datetime | None:
        """The next instant at which the finding can change with no new data."""
        steps = self._raised_steps() if raise_ else self.steps
        # A raised ladder repeats severities (high 16h, critical 24h both read critical): a
        # step that cannot take the raised severity higher changes nothing.
        current = Assessment(steps, self.detail).reached(now) if raise_ else None
        ahead = [
            at
            for severity, at in steps
            if now < at < NEVER  # NEVER: no wake-up
            and (current is None or severity > current[0])
        ]
        if self.ends is not None and now < self.ends < NEVER:
            ahead.append(self.ends)
        return min(ahead) if ahead else None

    def finding(
        self, custody_ref: str, rule: str, now: datetime, *, raise_: bool = False
    ) -> Finding | None:
        step = self.reached(now)
        if step is None:
            return None
        severity, since = step
        detail = self.detail(severity, since)  # the words follow what the rule itself says
        if raise_:
            top = Assessment(self._raised_steps(), self.detail).reached(now)
            assert top is not None  # the same steps are reached
            severity, since = top
        return Finding(custody_ref, rule, severity, since, detail)

    def _raised_steps(self) -> tuple[Step, ...]:
        return tuple((raised(severity), at) for severity, at in self.steps)


def single(severity: Severity, at: datetime, detail: str) -> Assessment:
    return Assessment(((severity, at),), lambda _severity, _since: detail)
