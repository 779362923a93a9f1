"""A tick's evaluation has a budget of real time: while a big feed is stored, escalation and
sending are not held back until every new detention has been evaluated. What is left stays
due, and the following ticks take it up."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from custody_watch.clock import FixedClock
from custody_watch.config import read_settings
from custody_watch.daemon import cycle, evaluate
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.poll import poll_source
from custody_watch.times import parse_instant

from .support import Daemon

NOW = parse_instant("2026-06-10T09:30:00Z")


def children(count: int) -> str:
    return "".join(
        f"C-{i},suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
        f"2026-06-10T09:00:00+01:00,P-{i}\n"
        for i in range(count)
    )


@pytest.mark.parametrize("budget", [0.0, None])
def test_a_spent_budget_stops_after_one_chunk_and_the_next_tick_goes_on(
    make_daemon: Callable[..., Daemon], monkeypatch: pytest.MonkeyPatch, budget: float | None
) -> None:
    monkeypatch.setattr(evaluate, "CHUNK", 4)
    daemon = make_daemon()
    daemon.drop("day.csv", children(10))
    ctx = build_context(read_settings(daemon.config), FixedClock(NOW), stream=io.StringIO())
    try:
        for settings in ctx.settings.sources:
            poll_source(
                ctx.sessions, ctx.sources[settings.name], settings.kind, None, ctx.policy, NOW
            )
        first = cycle.tick(ctx, NOW, evaluate_budget=budget)
        if budget is None:
            assert first.evaluated == 10  # run --once: everything due, in one tick
            return
        assert first.evaluated == 4  # one chunk, then escalation and sending had their turn
        assert cycle.tick(ctx, NOW, evaluate_budget=budget).evaluated == 4
        assert cycle.tick(ctx, NOW, evaluate_budget=budget).evaluated == 2
        assert cycle.tick(ctx, NOW, evaluate_budget=budget).evaluated == 0
    finally:
        ctx.engine.dispose()
