"""``[rules.<rule id>]``: every threshold of ``shared/domain/RULES.md``, with its default.

A threshold may be 0 (``warning_before = "0s"``: no early warning; ``warning_after = "0s"``:
at arrival), never negative or over 366 days."""

from __future__ import annotations

from datetime import time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from custody_watch.config.types import DurationOrZero as Duration
from custody_watch.config.types import TimeOfDay

H = timedelta(hours=1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PaceLimitRule(_Strict):
    basic_limit: Duration = 24 * H
    extension_cap: Duration = 36 * H
    warrant_cap: Duration = 96 * H
    warning_before: Duration = 3 * H
    high_before: Duration = 1 * H


class ReviewOverdueRule(_Strict):
    first_review_after: Duration = 6 * H
    review_interval: Duration = 9 * H
    warning_before: Duration = timedelta(minutes=30)
    critical_after: Duration = 2 * H


class ChildDetentionDurationRule(_Strict):
    warning_after: Duration = 8 * H
    high_after: Duration = 16 * H
    critical_after: Duration = 24 * H


class PostChargeTransferRule(_Strict):
    high_after: Duration = 1 * H
    critical_after: Duration = 4 * H


class PlaceOfSafetyLimitRule(_Strict):
    limit: Duration = 24 * H
    extension_cap: Duration = 36 * H
    warning_before: Duration = 4 * H


class PoliceProtectionAtStationRule(_Strict):
    critical_after: Duration = 2 * H


class PoliceProtectionLimitRule(_Strict):
    warning_after: Duration = 48 * H
    high_after: Duration = 66 * H
    critical_after: Duration = 72 * H


class AppropriateAdultRule(_Strict):
    warning_after: Duration = 1 * H
    high_after: Duration = 3 * H


class ChildOvernightRule(_Strict):
    window_start: TimeOfDay = time(22, 0)
    window_end: TimeOfDay = time(7, 0)


# v2 (RULES.md, "v2 rules"). The rules with no threshold (interview_without_aa,
# strip_search_without_aa, child_in_cell, child_with_adult_in_cell) have no section.


class WelfareNotInformedRule(_Strict):
    warning_after: Duration = 1 * H
    high_after: Duration = 3 * H


class CellVisitOverdueRule(_Strict):
    visit_interval: Duration = timedelta(minutes=30)
    high_after: Duration = timedelta(minutes=30)


class CourtProductionOverdueRule(_Strict):
    critical_after: Duration = 4 * H


class RepeatDetentionRule(_Strict):
    lookback: Duration = timedelta(days=90)
    other_detentions: int = Field(default=2, ge=1, le=1000)


class ReferralMissingRule(_Strict):
    shown_for: Duration = 72 * H


class LookedAfterRule(_Strict):
    """``raise = false`` turns off the looked-after raise (``raise`` is a Python keyword,
    hence the alias)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    raise_: bool = Field(default=True, alias="raise")


class RulesSettings(_Strict):
    pace_limit: PaceLimitRule = Field(default_factory=PaceLimitRule)
    review_overdue: ReviewOverdueRule = Field(default_factory=ReviewOverdueRule)
    child_detention_duration: ChildDetentionDurationRule = Field(
        default_factory=ChildDetentionDurationRule
    )
    post_charge_transfer: PostChargeTransferRule = Field(default_factory=PostChargeTransferRule)
    place_of_safety_limit: PlaceOfSafetyLimitRule = Field(default_factory=PlaceOfSafetyLimitRule)
    police_protection_at_station: PoliceProtectionAtStationRule = Field(
        default_factory=PoliceProtectionAtStationRule
    )
    police_protection_limit: PoliceProtectionLimitRule = Field(
        default_factory=PoliceProtectionLimitRule
    )
    appropriate_adult: AppropriateAdultRule = Field(default_factory=AppropriateAdultRule)
    child_overnight: ChildOvernightRule = Field(default_factory=ChildOvernightRule)
    welfare_not_informed: WelfareNotInformedRule = Field(default_factory=WelfareNotInformedRule)
    cell_visit_overdue: CellVisitOverdueRule = Field(default_factory=CellVisitOverdueRule)
    court_production_overdue: CourtProductionOverdueRule = Field(
        default_factory=CourtProductionOverdueRule
    )
    repeat_detention: RepeatDetentionRule = Field(default_factory=RepeatDetentionRule)
    referral_missing: ReferralMissingRule = Field(default_factory=ReferralMissingRule)
    looked_after: LookedAfterRule = Field(default_factory=LookedAfterRule)
