"""The ``simulator`` source: a built-in custody suite for demonstrations, drills and load.

Each poll returns the records as the simulated custody system would show them at ``now``
(see ``simulated_suite``). Because every record is a pure function of (seed, now), the
simulator keeps no state that matters: a restart, a missed poll or a clock running N times
faster (``--speed``) all give the same detentions, and an accelerated drill is simply a
faster clock.

Which records a poll returns: those whose ``updated_at`` is after the watermark, among
detentions still in custody or released within the last 48 hours (on the first poll, all of
those, and the earlier detentions in the 90 days before of the children among them who keep
coming back, so that a store that starts empty knows their history). The new watermark is
``now``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import lru_cache

from custody_watch.config.model import SimulatorSource
from custody_watch.sources.base import Batch, PollResult, SeenKeys, Sleep, SourceRow
from custody_watch.sources.simulated_draft import MAX_SPAN, Timeline
from custody_watch.sources.simulated_suite import SuiteModel, hour_of
from custody_watch.times import TimeValueError, parse_instant, utc_iso, utc_z

RECENT = timedelta(hours=48)
# How far back a first poll looks for the earlier detentions of children who come back:
# the default ``[rules.repeat_detention] lookback``.
LOOKBACK = timedelta(days=90)
# Hours kept generated per suite: a whole poll window (MAX_SPAN + RECENT) and then some, so
# polls every minute only generate the newest hour.
_CACHED_HOURS = 256


class Simulator:
    """Detentions at one or more simulated suites, as known at each poll's ``now``."""

    def __init__(
        self,
        name: str,
        *,
        seed: int = 1,
        force: str = "SIM",
        suites: Iterable[str] = ("SIM-C1",),
        detentions_per_day: float = 40,
        child_share: float = 0.08,
        failure_rate: float = 0.15,
    ) -> None:
        self.name = name
        # detentions_per_day is per suite: each simulated suite is as busy as the setting.
        self._models = tuple(
            SuiteModel(seed, suite, force, detentions_per_day, child_share, failure_rate)
            for suite in suites
        )
        self._hours = tuple(lru_cache(maxsize=_CACHED_HOURS)(model.hour) for model in self._models)

    @classmethod
    def from_settings(
        cls, settings: SimulatorSource, *, env: Mapping[str, str], sleep: Sleep
    ) -> Simulator:
        return cls(
            settings.name,
            seed=settings.seed,
            force=settings.force,
            suites=settings.suites,
            detentions_per_day=settings.detentions_per_day,
            child_share=settings.child_share,
            failure_rate=settings.failure_rate,
        )

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        since = _instant(watermark)
        if since is not None and since > now:
            # The clock was set back (a drill restarted at an earlier --now): start over.
            since = None
        records = [values for values, _ in self.records(now, since)]
        rows = [SourceRow(i, values, json.dumps(values)) for i, values in enumerate(records, 1)]
        batches = [Batch(label=f"{self.name}@{utc_z(now)}", rows=rows)] if rows else []
        return PollResult(batches=batches, watermark=utc_iso(now))

    def records(
        self, now: datetime, since: datetime | None = None
    ) -> Iterator[tuple[dict[str, object], Timeline]]:
        """Records as known at ``now`` that changed after ``since``, among detentions in
        custody or released within ``RECENT``, in order of arrival."""
        floor = now - RECENT
        # Only detentions with an event after both bounds can qualify, and no event falls
        # later than MAX_SPAN after arrival: that bounds the hours to look at.
        lower = max(since, floor) if since is not None else floor
        found: list[tuple[datetime, str, dict[str, object], Timeline]] = []
        for hours in self._hours:
            for hour in range(hour_of(lower - MAX_SPAN), hour_of(now) + 1):
                for timeline in hours(hour):
                    if timeline.released <= floor:
                        continue
                    known = timeline.known_at(now)
                    if known is None or (since is not None and known[1] <= since):
                        continue
                    values, _ = known
                    found.append((timeline.arrival, str(values["custody_ref"]), values, timeline))
        if since is None:
            found += self._earlier_visits(found, now, lower)
        found.sort(key=lambda item: (item[0], item[1]))
        return ((values, timeline) for _, _, values, timeline in found)

    def _earlier_visits(
        self,
        found: list[tuple[datetime, str, dict[str, object], Timeline]],
        now: datetime,
        lower: datetime,
    ) -> list[tuple[datetime, str, dict[str, object], Timeline]]:
        """On a first poll, the earlier detentions (in the 90 days before) of the children
        in it who keep coming back: what a custody system holds about them, and what
        ``repeat_detention`` needs in a store that starts empty. Only the first draws of
        each earlier arrival are made, and the whole detention only for those children."""
        wanted = {str(values["person_ref"]) for _, _, values, tl in found if tl.regular}
        if not wanted:
            return []
        out = []
        first, last = hour_of(now - LOOKBACK - MAX_SPAN), hour_of(lower - MAX_SPAN)
        for model in self._models:
            for hour in range(first, last):
                for j in range(model.arrivals(hour)):
                    if model.regular_of(hour, j) not in wanted:
                        continue
                    timeline = model.detention(hour, j)
                    known = timeline.known_at(now)
                    if known is not None:
                        values = known[0]
                        out.append((timeline.arrival, str(values["custody_ref"]), values, timeline))
        return out


def _instant(watermark: str | None) -> datetime | None:
    """Our own watermark; anything else (say, left by an earlier kind of source under the
    same name) is read as no watermark: the first-poll window is always safe to re-send."""
    if watermark is None:
        return None
    try:
        return parse_instant(watermark)
    except TimeValueError:
        return None
