"""Retry delays: exponential with jitter, so a Twilio outage does not end in a stampede."""

from __future__ import annotations

import random
from datetime import timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(minutes=10)


def retry_delay(attempt: int, rng: random.Random, *, retry_after: float | None = None) -> timedelta:
    """Delay before try ``attempt + 1``: 30 s, 60 s, 120 s... capped at 10 min, each
    between half and all of that, and never sooner than the provider asked."""
    ceiling = min(CAP, BASE * (1 << min(max(attempt - 1, 0), 20)))
    delay = ceiling * (0.5 + rng.random() / 2)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay
