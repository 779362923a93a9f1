"""Rule thresholds, declared once. The defaults are exactly those of ``shared/domain/RULES.md``.

This module is the one place a threshold is written: ``config.rules`` derives the
``[rules.<rule id>]`` sections of the config file from the dataclasses below (one section per
``Policy`` field that is a threshold dataclass, one key per dataclass field, the default
taken from here). Adding a threshold is one edit here, plus its test. Field metadata carries
what the config needs and the type cannot say: an integer's bounds (``BOUNDS``), and where a
flat ``Policy`` field is read from (``CONFIG_KEY``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from custody_watch.times import LONDON

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = timedelta(days=1)

# Metadata keys read by config.rules. An ``int`` threshold must give its bounds (the config
# refuses a count outside them); a duration is 0 to 366 days, a time of day any HH:MM.
BOUNDS = "bounds"
# A ``Policy`` field that is not a section of its own: (section, key) in ``[rules]``.
CONFIG_KEY = "config_key"


def bounded(default: int, low: int, high: int) -> Any:
    """An integer threshold with the bounds the config enforces."""
    return field(default=default, metadata={BOUNDS: (low, high)})


class People(StrEnum):
    CHILDREN = "children"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class PaceLimitPolicy:
    basic_limit: timedelta = 24 * H
    extension_cap: timedelta = 36 * H
    warrant_cap: timedelta = 96 * H
    warning_before: timedelta = 3 * H
    high_before: timedelta = 1 * H


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    first_review_after: timedelta = 6 * H
    review_interval: timedelta = 9 * H
    warning_before: timedelta = 30 * M
    critical_after: timedelta = 2 * H


@dataclass(frozen=True, slots=True)
class ChildDurationPolicy:
    warning_after: timedelta = 8 * H
    high_after: timedelta = 16 * H
    critical_after: timedelta = 24 * H


@dataclass(frozen=True, slots=True)
class PostChargeTransferPolicy:
    high_after: timedelta = 1 * H
    critical_after: timedelta = 4 * H


@dataclass(frozen=True, slots=True)
class PlaceOfSafetyLimitPolicy:
    limit: timedelta = 24 * H
    extension_cap: timedelta = 36 * H
    warning_before: timedelta = 4 * H


@dataclass(frozen=True, slots=True)
class PoliceProtectionAtStationPolicy:
    critical_after: timedelta = 2 * H


@dataclass(frozen=True, slots=True)
class PoliceProtectionLimitPolicy:
    warning_after: timedelta = 48 * H
    high_after: timedelta = 66 * H
    critical_after: timedelta = 72 * H


@dataclass(frozen=True, slots=True)
class AppropriateAdultPolicy:
    warning_after: timedelta = 1 * H
    high_after: timedelta = 3 * H


@dataclass(frozen=True, slots=True)
class OvernightPolicy:
    window_start: time = time(22, 0)
    window_end: time = time(7, 0)


# v2 (RULES.md, "v2 rules")


@dataclass(frozen=True, slots=True)
class WelfareNotInformedPolicy:
    warning_after: timedelta = 1 * H
    high_after: timedelta = 3 * H


@dataclass(frozen=True, slots=True)
class CellVisitPolicy:
    visit_interval: timedelta = 30 * M
    high_after: timedelta = 30 * M


@dataclass(frozen=True, slots=True)
class CourtProductionPolicy:
    critical_after: timedelta = 4 * H


@dataclass(frozen=True, slots=True)
class RepeatDetentionPolicy:
    lookback: timedelta = 90 * DAY
    other_detentions: int = bounded(2, 1, 1000)


@dataclass(frozen=True, slots=True)
class ReferralMissingPolicy:
    shown_for: timedelta = 72 * H


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the rules need besides the record and the instant."""

    people: People = People.CHILDREN
    zone: tzinfo = LONDON
    pace_limit: PaceLimitPolicy = field(default_factory=PaceLimitPolicy)
    review_overdue: ReviewPolicy = field(default_factory=ReviewPolicy)
    child_detention_duration: ChildDurationPolicy = field(default_factory=ChildDurationPolicy)
    post_charge_transfer: PostChargeTransferPolicy = field(default_factory=PostChargeTransferPolicy)
    place_of_safety_limit: PlaceOfSafetyLimitPolicy = field(
        default_factory=PlaceOfSafetyLimitPolicy
    )
    police_protection_at_station: PoliceProtectionAtStationPolicy = field(
        default_factory=PoliceProtectionAtStationPolicy
    )
    police_protection_limit: PoliceProtectionLimitPolicy = field(
        default_factory=PoliceProtectionLimitPolicy
    )
    appropriate_adult: AppropriateAdultPolicy = field(default_factory=AppropriateAdultPolicy)
    child_overnight: OvernightPolicy = field(default_factory=OvernightPolicy)
    welfare_not_informed: WelfareNotInformedPolicy = field(default_factory=WelfareNotInformedPolicy)
    cell_visit_overdue: CellVisitPolicy = field(default_factory=CellVisitPolicy)
    court_production_overdue: CourtProductionPolicy = field(default_factory=CourtProductionPolicy)
    repeat_detention: RepeatDetentionPolicy = field(default_factory=RepeatDetentionPolicy)
    referral_missing: ReferralMissingPolicy = field(default_factory=ReferralMissingPolicy)
    # [rules.looked_after] raise: every child-only finding but info one step higher.
    looked_after_raise: bool = field(default=True, metadata={CONFIG_KEY: ("looked_after", "raise")})
