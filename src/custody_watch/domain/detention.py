"""One custody record (a detention), as read from any source.

Every time is aware UTC. Field names are those of the interchange format
(``shared/spec/custody-record.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class LegalBasis(StrEnum):
    PACE_ARREST = "pace_arrest"
    BAIL_RETURN = "bail_return"
    WARRANT = "warrant"
    MHA_S136 = "mha_s136"
    MHA_S135 = "mha_s135"
    POLICE_PROTECTION = "police_protection"
    OTHER = "other"


class ReleaseReason(StrEnum):
    RELEASED = "released"
    BAILED = "bailed"
    TRANSFERRED_LA = "transferred_la"
    COURT = "court"
    HOSPITAL = "hospital"
    OTHER = "other"


class CertificateGround(StrEnum):
    IMPRACTICABLE = "impracticable"
    NO_SECURE_ACCOMMODATION = "no_secure_accommodation"


class CellReason(StrEnum):
    """Code C 8.8: why a child was placed in a cell (v2)."""

    NO_OTHER_SECURE_ACCOMMODATION = "no_other_secure_accommodation"
    NOT_PRACTICABLE_TO_SUPERVISE = "not_practicable_to_supervise"
    MORE_COMFORTABLE = "more_comfortable"


class CaseReviewGrade(StrEnum):
    """A supervisor's case review, on the inspection's own scale (v2)."""

    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


# The two fields whose absence is itself a finding (RULES.md, Precise reading 15): a rule may
# fire on their absence only where the feed carries them, even empty.
ABSENCE_FIELDS = ("welfare_person_informed_time", "social_care_referral_time")

PACE_BASES = frozenset({LegalBasis.PACE_ARREST, LegalBasis.BAIL_RETURN, LegalBasis.WARRANT})
PLACE_OF_SAFETY_BASES = frozenset({LegalBasis.MHA_S136, LegalBasis.MHA_S135})


@dataclass(frozen=True, slots=True)
class Detention:
    custody_ref: str
    suite: str
    arrival_time: datetime
    force: str | None = None
    person_ref: str | None = None
    date_of_birth: date | None = None
    legal_basis: LegalBasis = LegalBasis.PACE_ARREST
    arrest_time: datetime | None = None
    relevant_time: datetime | None = None
    detention_authorised_time: datetime | None = None
    prior_detention_minutes: int = 0
    reviews: tuple[datetime, ...] = ()
    superintendent_extension_time: datetime | None = None
    superintendent_extension_until: datetime | None = None
    warrant_time: datetime | None = None
    warrant_until: datetime | None = None
    mha_extension_time: datetime | None = None
    mha_extension_until: datetime | None = None
    police_protection_start: datetime | None = None
    charged_time: datetime | None = None
    bail_refused_time: datetime | None = None
    la_accommodation_requested_time: datetime | None = None
    s38_certificate_time: datetime | None = None
    s38_certificate_ground: CertificateGround | None = None
    appropriate_adult_requested_time: datetime | None = None
    appropriate_adult_arrived_time: datetime | None = None
    released_time: datetime | None = None
    release_reason: ReleaseReason | None = None
    updated_at: datetime | None = None
    # v2 (custody-record.md): Code C for children and what the inspection asked for.
    looked_after: bool = False
    welfare_person_informed_time: datetime | None = None
    interview_times: tuple[datetime, ...] = ()
    urgent_interview_authorised_time: datetime | None = None
    strip_search_times: tuple[datetime, ...] = ()
    strip_search_urgent: bool = False
    cell_time: datetime | None = None
    cell_reason: CellReason | None = None
    adult_in_cell_time: datetime | None = None
    cell_visit_times: tuple[datetime, ...] = ()
    court_due_time: datetime | None = None
    social_care_referral_time: datetime | None = None
    case_review_grade: CaseReviewGrade | None = None
    case_review_time: datetime | None = None
    # Which of ABSENCE_FIELDS the feed carried for this row (a CSV column in the header, a
    # JSON key present), whether or not it held a value. Not a field of the format: what
    # the row said about the format's fields.
    feed_carries: frozenset[str] = frozenset()

    def carries(self, name: str) -> bool:
        """Whether the feed exported ``name`` (one of ``ABSENCE_FIELDS``) for this row."""
        return name in self.feed_carries


def age_on(born: date, day: date) -> int:
    """Whole years on ``day``. A 29 February birthday falls on 1 March in other years, which
    plain (month, day) comparison gives: (2, 28) < (2, 29) < (3, 1)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
