"""Turning settings into the ``Policy`` the pure rules take."""

from __future__ import annotations

from custody_watch.config.model import Settings
from custody_watch.rules import policy as p
from custody_watch.times import parse_zone


def rules_policy(settings: Settings) -> p.Policy:
    r = settings.rules
    return p.Policy(
        people=p.People(settings.scope.people),
        zone=parse_zone(settings.timezone),
        pace_limit=p.PaceLimitPolicy(**r.pace_limit.model_dump()),
        review_overdue=p.ReviewPolicy(**r.review_overdue.model_dump()),
        child_detention_duration=p.ChildDurationPolicy(**r.child_detention_duration.model_dump()),
        post_charge_transfer=p.PostChargeTransferPolicy(**r.post_charge_transfer.model_dump()),
        place_of_safety_limit=p.PlaceOfSafetyLimitPolicy(**r.place_of_safety_limit.model_dump()),
        police_protection_at_station=p.PoliceProtectionAtStationPolicy(
            **r.police_protection_at_station.model_dump()
        ),
        police_protection_limit=p.PoliceProtectionLimitPolicy(
            **r.police_protection_limit.model_dump()
        ),
        appropriate_adult=p.AppropriateAdultPolicy(**r.appropriate_adult.model_dump()),
        child_overnight=p.OvernightPolicy(**r.child_overnight.model_dump()),
        welfare_not_informed=p.WelfareNotInformedPolicy(**r.welfare_not_informed.model_dump()),
        cell_visit_overdue=p.CellVisitPolicy(**r.cell_visit_overdue.model_dump()),
        court_production_overdue=p.CourtProductionPolicy(**r.court_production_overdue.model_dump()),
        repeat_detention=p.RepeatDetentionPolicy(**r.repeat_detention.model_dump()),
        referral_missing=p.ReferralMissingPolicy(**r.referral_missing.model_dump()),
        looked_after_raise=r.looked_after.raise_,
    )
