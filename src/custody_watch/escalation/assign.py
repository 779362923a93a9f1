"""Who a page goes to, and what it says it is: pure functions of the alert and its ladder."""

from __future__ import annotations

from collections.abc import Container

from custody_watch.escalation.ladders import Ladder


def page_targets(
    assigned_to: str | None, level_notify: tuple[str, ...], people: Container[str]
) -> tuple[str, ...]:
    """The rota entries (roles or person ids) a level's page goes to. An alert reassigned to
    a person pages that person instead of the level's roles, at every level, so the one who
    took it over is the one woken; a person who has since left the config is ignored and
    the rota pages as before (nobody must be left unpaged by a stale assignment)."""
    if assigned_to and assigned_to in people:
        return (assigned_to,)
    return level_notify


def page_marker(ladder: Ladder, position: int) -> str:
    """What a page at ``position`` on its ladder is (see ``escalation.steps``): "" for the
    first, "ESCALATED TO LEVEL k" for a level reached by escalation, "REPEAT n" for the n-th
    page of the last level (its first page is the escalation, or the opening page)."""
    if position <= 0:
        return ""
    if position <= ladder.last:
        return f"ESCALATED TO LEVEL {position + 1}"
    return f"REPEAT {position - ladder.last + 1}"
