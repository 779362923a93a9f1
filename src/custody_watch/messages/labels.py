"""Plain-English names for rule ids, for messages and pages."""

from __future__ import annotations

RULE_LABELS = {
    "pace_limit": "PACE detention time limit",
    "review_overdue": "PACE review overdue",
    "child_detention_duration": "child held a long time",
    "post_charge_transfer": "not moved to LA accommodation after charge",
    "invalid_s38_certificate": "invalid s.38(6) certificate (under 12)",
    "place_of_safety_child": "child at a station as a place of safety",
    "place_of_safety_limit": "place-of-safety time limit",
    "police_protection_at_station": "child in police protection at a station",
    "police_protection_limit": "police protection time limit",
    "appropriate_adult": "no appropriate adult",
    "child_overnight": "child held overnight",
    "age_below_criminal_responsibility": "under the age of criminal responsibility",
    "missing_dob": "date of birth missing",
    "feed_stale": "custody feed silent",
    "delivery_failed": "alert could not be delivered",
    "message_render_failed": "alert text could not be made from its template",
    "nobody_on_call": "nobody on call",
    "opted_out": "on-call phone opted out of SMS",
}


def rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule.replace("_", " "))
