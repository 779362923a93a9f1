"""Each child's story in a line: the events of a child held over 8 hours, and what happened
to a child charged and refused bail, in local time (the date given once, and again when it
changes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from custody_watch.times import parse_instant

from .wording import AGE_LABELS, minutes_text, when

EVENT_LABELS = {
    "arrested": "arrested",
    "arrived": "arrived",
    "welfare_person_informed": "person responsible for welfare told",
    "appropriate_adult_requested": "appropriate adult requested",
    "appropriate_adult_arrived": "appropriate adult arrived",
    "charged": "charged",
    "bail_refused": "refused bail",
    "la_accommodation_requested": "local-authority accommodation requested",
    "s38_certificate": "s.38(6) certificate",
    "placed_in_cell": "placed in a cell",
    "released": "left custody",
    "social_care_referral": "referred to children's social care",
}
REASON_LABELS = {
    "released": "released",
    "bailed": "bailed",
    "transferred_la": "moved to local-authority accommodation",
    "court": "taken to court",
    "hospital": "taken to hospital",
    "other": "other reason",
}
GROUND_LABELS = {
    "impracticable": "transfer impracticable",
    "no_secure_accommodation": "no secure accommodation",
    "none": "no ground given",
}
BASIS_LABELS = {
    "mha_s136": "MHA s.136",
    "mha_s135": "MHA s.135",
    "police_protection": "police protection",
}
OUTCOME_LABELS = {
    "transferred_la": "Moved to local-authority accommodation",
    "certified": "s.38(6) certificate",
    "neither": "Neither moved nor certified",
}


@dataclass(frozen=True, slots=True)
class ChildLine:
    custody_ref: str
    where: str
    story: str
    outcome: str


def over_8h_lines(figures: dict[str, Any], zone: tzinfo) -> tuple[ChildLine, ...]:
    """The children held over 8 hours, in the order of ``children`` (by arrival)."""
    over = set(figures["children_over_8h"])
    return tuple(_child_line(c, zone) for c in figures["children"] if c["custody_ref"] in over)


def refused_bail_lines(figures: dict[str, Any], zone: tzinfo) -> tuple[ChildLine, ...]:
    return tuple(_refused_line(r, zone) for r in figures["charged_refused_bail_children"])


class _Story:
    """Local times for one child's events: the date is given once, and again when it
    changes."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._day: date | None = None

    def at(self, text: str) -> str:
        instant = parse_instant(text)
        day = instant.astimezone(self._zone).date()
        label = when(instant, self._zone, with_date=day != self._day)
        self._day = day
        return label


def _sentence(steps: Sequence[str]) -> str:
    text = "; ".join(steps)
    return text[:1].upper() + text[1:]


def _child_line(child: dict[str, Any], zone: tzinfo) -> ChildLine:
    steps = []
    story = _Story(zone)
    for event in child["events"]:
        label = EVENT_LABELS[event["event"]]
        text = f"{label} {story.at(event['at'])}"
        if event["event"] == "s38_certificate" and "ground" in event:
            text += f" ({GROUND_LABELS[event['ground']]})"
        if event["event"] == "released" and "reason" in event:
            text += f" ({REASON_LABELS[event['reason']]})"
        steps.append(text)
    held = minutes_text(child["held_minutes"])
    if child["in_custody_at_window_end"]:
        outcome = f"still in custody at the end of the period: held {held} so far"
    else:
        outcome = f"held {held}"
    where = _where(child)
    return ChildLine(
        child["custody_ref"], where, _sentence(steps), outcome[:1].upper() + outcome[1:]
    )


def _where(item: dict[str, Any]) -> str:
    parts = [item["suite"]]
    band = item.get("age_band")
    if band is not None:
        parts.append(f"age {AGE_LABELS[band]}" if band != "unknown" else AGE_LABELS[band])
    basis = BASIS_LABELS.get(item.get("legal_basis") or "")
    if basis:
        parts.append(basis)
    if item.get("looked_after"):
        parts.append("looked after")
    if item.get("repeat_detention"):
        parts.append("detained again")
    return ", ".join(parts)


def no_referral_lines(figures: dict[str, Any], zone: tzinfo) -> tuple[ChildLine, ...]:
    """The children who left custody in the period with no referral to children's social
    care by its end (only from feeds that export referrals)."""
    out = []
    for item in figures.get("released_without_referral_children", ()):
        story = _Story(zone)
        reason = REASON_LABELS.get(item["release_reason"] or "", "")
        text = f"left custody {story.at(item['released_time'])}" + (
            f" ({reason})" if reason else ""
        )
        out.append(
            ChildLine(
                item["custody_ref"],
                _where(item),
                _sentence([text]),
                "No referral to children's social care by the end of the period",
            )
        )
    return tuple(out)


def _refused_line(item: dict[str, Any], zone: tzinfo) -> ChildLine:
    story = _Story(zone)
    steps = [f"refused bail {story.at(item['bail_refused_time'])}"]
    if item["la_accommodation_requested_time"]:
        at = story.at(item["la_accommodation_requested_time"])
        steps.append(f"local-authority accommodation requested {at}")
    if item["s38_certificate_time"]:
        ground = GROUND_LABELS[item["s38_certificate_ground"] or "none"]
        steps.append(f"s.38(6) certificate {story.at(item['s38_certificate_time'])} ({ground})")
    if item["released_time"]:
        reason = REASON_LABELS.get(item["release_reason"] or "", "")
        at = story.at(item["released_time"])
        steps.append(f"left custody {at}" + (f" ({reason})" if reason else ""))
    else:
        steps.append("still in custody")
    outcome = OUTCOME_LABELS[item["outcome"]]
    return ChildLine(item["custody_ref"], item["suite"], _sentence(steps), outcome)
