"""Choosing one version of each detention.

Several rows with the same ``custody_ref`` are versions of one detention: the latest
``updated_at`` wins; a row without ``updated_at`` is older than any row with one; between
equals, the later row in the feed wins. Versions are chosen over the whole feed, not as of
the evaluation instant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from custody_watch.domain import Detention


def version_key(detention: Detention, position: int) -> tuple[bool, datetime | None, int]:
    """Orders versions of one detention, oldest first."""
    return (detention.updated_at is not None, detention.updated_at, position)


def latest_versions(detentions: Iterable[Detention]) -> list[Detention]:
    """One detention per custody_ref, in order of first appearance."""
    best: dict[str, tuple[tuple[bool, datetime | None, int], Detention]] = {}
    for position, detention in enumerate(detentions):
        key = version_key(detention, position)
        current = best.get(detention.custody_ref)
        if current is None or _newer(key, current[0]):
            best[detention.custody_ref] = (key, detention)
    return [detention for _, detention in best.values()]


def _newer(key: tuple[bool, datetime | None, int], than: tuple[bool, datetime | None, int]) -> bool:
    if key[0] != than[0]:
        return key[0]
    if key[1] is not None and than[1] is not None and key[1] != than[1]:
        return key[1] > than[1]
    return key[2] > than[2]
