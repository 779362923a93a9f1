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
    # v2. Never "looked after": labels go out by SMS.
    "welfare_not_informed": "welfare contact not told of the arrest",
    "interview_without_aa": "interviewed without an appropriate adult",
    "strip_search_without_aa": "strip-searched without an appropriate adult",
    "child_in_cell": "child in a cell with no reason recorded",
    "child_with_adult_in_cell": "child in a cell with a detained adult",
    "cell_visit_overdue": "cell visit overdue",
    "court_production_overdue": "not produced at court after charge",
    "repeat_detention": "repeatedly detained",
    "referral_missing": "released without a social care referral",
    "feed_stale": "custody feed silent",
    "delivery_failed": "alert could not be delivered",
    "message_render_failed": "alert text could not be made from its template",
    "nobody_on_call": "nobody on call",
    "opted_out": "on-call phone opted out of SMS",
}


def rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule.replace("_", " "))
