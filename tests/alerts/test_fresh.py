"""A finding's limit as a message states it: when the law is broken, else its top step."""

from __future__ import annotations

from custody_watch.alerts.fresh import limit_of
from custody_watch.domain import Severity
from custody_watch.rules.instants import NEVER

from .support import T0, H

W, HI, C = Severity.WARNING, Severity.HIGH, Severity.CRITICAL


def test_a_pace_limit_is_its_critical_step() -> None:
    assert limit_of("pace_limit", ((W, T0 - 3 * H), (HI, T0 - H), (C, T0))) == T0


def test_a_review_is_late_at_its_due_time_not_its_critical_step() -> None:
    assert limit_of("review_overdue", ((W, T0 - H / 2), (HI, T0), (C, T0 + 2 * H))) == T0


def test_guidance_is_limited_by_its_top_step_and_never_means_none() -> None:
    steps = ((W, T0), (HI, T0 + 8 * H), (C, T0 + 16 * H))
    assert limit_of("child_detention_duration", steps) == T0 + 16 * H
    assert limit_of("child_detention_duration", ((W, T0), (C, NEVER))) is None
