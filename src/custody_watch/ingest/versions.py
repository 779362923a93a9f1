"""Choosing one version of each detention.

Several rows with the same ``custody_ref`` are versions of one detention: the latest
``updated_at`` wins; a row without ``updated_at`` is older than any row with one; between
equals, the later row in the feed wins. Versions are chosen over the whole feed, not as of
the evaluation instant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from custody_watch.domain import Detention


def replaces(held: datetime | None, later: datetime | None) -> bool:
    """Whether a later row's version (its ``updated_at``) replaces the one held so far: a
    row without ``updated_at`` only replaces another without one; between equals the later
    row wins. The one statement of the rule: the file reading and ``evaluate``'s streaming
    reading (``assess_file``) both ask it."""
    if later is None:
        return held is None
    return held is None or later >= held


def latest_versions(detentions: Iterable[Detention]) -> list[Detention]:
    """One detention per custody_ref, in order of first appearance."""
    best: dict[str, Detention] = {}
    for detention in detentions:
        current = best.get(detention.custody_ref)
        if current is None or replaces(current.updated_at, detention.updated_at):
            best[detention.custody_ref] = detention
    return list(best.values())
