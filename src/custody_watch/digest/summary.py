"""The digest's summary: the headline, a line per figure of the totals, the data-quality
lines, and the notes on a quiet day or incomplete data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from custody_watch.times import parse_instant

from .tally import AGE_BANDS
from .wording import AGE_LABELS, minutes_text, when


@dataclass(frozen=True, slots=True)
class Line:
    """A figure for people: ``label: value`` and an optional remark."""

    label: str
    value: str
    remark: str = ""
    alarm: bool = False


def headline(figures: dict[str, Any]) -> str:
    t = figures["totals"]
    if figures.get("quiet"):
        return "a quiet day"
    n = t["children_in_custody"]
    parts = [f"{n} {'child' if n == 1 else 'children'} in custody"]
    if t["children_held_over_8h"]:
        parts.append(f"{t['children_held_over_8h']} over 8h")
    if t["children_held_overnight"]:
        parts.append(f"{t['children_held_overnight']} overnight")
    if t["refused_bail_neither"]:
        parts.append(f"{t['refused_bail_neither']} refused bail not moved")
    return ", ".join(parts)


def summary_lines(t: dict[str, Any]) -> list[Line]:
    """The totals, a line each: children in custody, bail and safeguards, then alerts."""
    return [*_custody_lines(t), *_safeguard_lines(t), *care_lines(t), *_alert_lines(t)]


def _custody_lines(t: dict[str, Any]) -> list[Line]:
    tic = t["time_in_custody_minutes"]
    bands = [f"{AGE_LABELS[b]}: {t['age_bands'][b]}" for b in AGE_BANDS if t["age_bands"][b]]
    lines = [
        Line(
            "Children in custody",
            str(t["children_in_custody"]),
            f"arrived {t['children_arrived']}, left custody {t['children_released']}",
        ),
    ]
    if bands:
        lines.append(Line("By age", ", ".join(bands)))
    lines += [
        Line(
            "Time in custody",
            "no child left custody"
            if tic["median"] is None
            else (
                f"median {minutes_text(tic['median'])}, "
                f"90th percentile {minutes_text(tic['p90'])}, "
                f"longest {minutes_text(tic['max'])}"
            ),
            "" if tic["median"] is None else "children who left custody in the period",
        ),
        Line("Held over 8 hours", str(t["children_held_over_8h"])),
        Line(
            "Held overnight",
            str(t["children_held_overnight"]),
            f"before charge {t['held_overnight_before_charge']}, "
            f"after charge {t['held_overnight_after_charge']}",
        ),
    ]
    return lines


def _safeguard_lines(t: dict[str, Any]) -> list[Line]:
    return [
        Line(
            "Charged and refused bail",
            str(t["charged_refused_bail"]),
            f"moved to local-authority accommodation {t['transferred_la']}, "
            f"certificate {t['certified']}, neither {t['refused_bail_neither']}",
            alarm=t["refused_bail_neither"] > 0,
        ),
        Line(
            "Children at a station as a place of safety",
            str(t["place_of_safety_children"]),
            "must be none",
            alarm=t["place_of_safety_children"] > 0,
        ),
        Line("Adults at a station as a place of safety", str(t["place_of_safety_adults"])),
        Line(
            "Police protection at a station",
            str(t["police_protection_at_station"]),
            alarm=t["police_protection_at_station"] > 0,
        ),
        Line("Appropriate-adult delays", str(t["appropriate_adult_delays"]), "over 3 hours"),
        Line("Reviews late", str(t["reviews_late"])),
    ]


GRADE_LABELS = {
    "good": "good",
    "requires_improvement": "requires improvement",
    "inadequate": "inadequate",
}


def care_lines(t: dict[str, Any]) -> list[Line]:
    """The v2 figures (RULES.md, "Digest (v2)"), each shown only when it has something to
    say: a feed that does not export looked-after status, referrals or case reviews gives
    zeros, which would read as "none" rather than "not known"."""
    lines = []
    if t["looked_after_in_custody"]:
        lines.append(
            Line(
                "Looked-after children in custody",
                str(t["looked_after_in_custody"]),
                "in local-authority care",
            )
        )
    if t["repeat_detention_children"]:
        lines.append(
            Line(
                "Children detained again",
                str(t["repeat_detention_children"]),
                "at least 2 other detentions in the 90 days before",
                alarm=True,
            )
        )
    if t["released_without_referral"]:
        lines.append(
            Line(
                "Released without a referral to children's social care",
                str(t["released_without_referral"]),
                alarm=True,
            )
        )
    over_28d = t.get("case_reviews_28d") or {}
    if sum(t["case_reviews"].values()) or sum(over_28d.values()):
        lines.append(case_review_line(t["case_reviews"], over_28d))
    return lines


def case_review_line(grades: dict[str, int], over_28d: dict[str, int]) -> Line:
    graded = sum(grades.values())
    value = ", ".join(f"{GRADE_LABELS[g]} {n}" for g, n in grades.items()) if graded else "none"
    total = sum(over_28d.values())
    remark = ""
    if total:
        bad = over_28d["inadequate"]
        remark = f"inadequate over 28 days: {round(100 * bad / total)}% ({bad} of {total})"
    return Line("Case reviews graded", value, remark)


def _alert_lines(t: dict[str, Any]) -> list[Line]:
    ack = t["ack_minutes"]
    alerts = t["alerts_raised"]
    return [
        Line(
            "Alerts raised",
            str(t["alerts_total"]),
            ", ".join(f"{s} {alerts[s]}" for s in ("critical", "high", "warning")),
        ),
        Line(
            "Time to first acknowledgement",
            "no alert acknowledged"
            if ack["median"] is None
            else (
                f"median {minutes_text(ack['median'])}, 90th percentile {minutes_text(ack['p90'])}"
            ),
        ),
        Line(
            "Alerts never acknowledged",
            str(t["alerts_never_acknowledged"]),
            "of those raised in the period",
        ),
        Line(
            "Delivery failures",
            str(t["delivery_failures"]),
            "messages that could not be delivered",
            alarm=t["delivery_failures"] > 0,
        ),
    ]


def quality_lines(quality: dict[str, Any]) -> list[Line]:
    by_source = ", ".join(f"{s} {n}" for s, n in quality["quarantined_by_source"].items())
    lines = [
        Line(
            "Rejected rows",
            str(quality["quarantined_rows"]),
            f"by source: {by_source}" if by_source else "",
        ),
        Line(
            "Missing dates of birth",
            str(quality["missing_dob"]),
            "treated as children until a date of birth is recorded"
            if quality["missing_dob"]
            else "",
        ),
    ]
    if quality["unreadable_records"]:
        lines.append(
            Line("Stored records that could not be read", str(quality["unreadable_records"]))
        )
    return lines


def outage_line(outage: dict[str, Any], zone: tzinfo) -> str:
    """One outage in words. The source's error text stays out of the email (it can name
    hosts and accounts); ``--format json`` and the audit log have it."""
    start = when(parse_instant(outage["start"]), zone)
    if outage["kind"] == "failed_polls":
        n = outage["failed_polls"]
        if n == 1:
            return f"{outage['source']} failed to answer a poll at {start}"
        end = when(parse_instant(outage["end"]), zone)
        return f"{outage['source']} failed to answer {n} polls between {start} and {end}"
    if outage["end"] is None:
        return f"{outage['source']} delivered nothing from {start} and is still silent"
    end = when(parse_instant(outage["end"]), zone)
    return f"{outage['source']} delivered nothing from {start} until {end}"


def incomplete_note(quality: dict[str, Any], zone: tzinfo) -> str | None:
    if not quality["incomplete"]:
        return None
    reasons = [outage_line(o, zone) for o in quality["outages"]]
    for late in quality["sources_started_late"]:
        first = when(parse_instant(late["first_poll_at"]), zone)
        reasons.append(f"{late['source']} was first read at {first}")
    if quality["window_not_over"]:
        reasons.append("the period has not ended yet")
    if quality["unreadable_records"]:
        reasons.append(f"{quality['unreadable_records']} stored records could not be read")
    return (
        "The data for this period is incomplete: "
        + "; ".join(reasons)
        + ". The figures count only what custody-watch received, so the true numbers may be "
        "higher."
    )


def quiet_note(figures: dict[str, Any], incomplete: str | None) -> str | None:
    if not figures.get("quiet"):
        return None
    quiet = "A quiet day: no child was in police custody in this period and no alert was raised."
    if incomplete:
        quiet += (
            " The data for the period was incomplete (see above), so this may not be the "
            "whole picture."
        )
    return quiet
