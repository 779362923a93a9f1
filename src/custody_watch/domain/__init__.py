"""The nouns of custody-watch: detentions, findings, severities. Standard library only."""

from custody_watch.domain.detention import (
    ABSENCE_FIELDS,
    PACE_BASES,
    PLACE_OF_SAFETY_BASES,
    CaseReviewGrade,
    CellReason,
    CertificateGround,
    Detention,
    LegalBasis,
    ReleaseReason,
    age_on,
)
from custody_watch.domain.finding import Finding, Severity

__all__ = [
    "ABSENCE_FIELDS",
    "PACE_BASES",
    "PLACE_OF_SAFETY_BASES",
    "CaseReviewGrade",
    "CellReason",
    "CertificateGround",
    "Detention",
    "Finding",
    "LegalBasis",
    "ReleaseReason",
    "Severity",
    "age_on",
]
