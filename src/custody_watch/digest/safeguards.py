"""The digest's v2 figures that need more than one detention in one window
(``shared/domain/RULES.md``, "Digest (v2)"; ``shared/spec/cli.md``).

- ``repeat_detention_children``: a child detention has ``repeat_detention`` when at least
  ``[rules.repeat_detention] other_detentions`` others (2) of the same ``person_ref``
  arrived in the ``lookback`` (90 days) before its arrival. The others are every stored
  record, whatever its state (Precise reading 11), read from the store by the
  ``(person_ref, arrival_time)`` index; a record with the same ``custody_ref`` is the record
  itself. The finding lasts while the child is in custody, so a child in custody during the
  window with the finding is counted.
- ``case_reviews``: the grades of detentions (children or adults: the contract says
  records) whose ``case_review_time`` is in the window; a grade without a time, or a time
  without a grade, is not a graded review. ``case_reviews_inadequate_share_28d`` (totals
  only): inadequate over all graded, for reviews in the 28 digest windows ending with this
  one, unrounded so that it equals inadequate / graded exactly; ``null`` when none. The counts
  behind it are the extra key ``case_reviews_28d``.
- Reading: reviews are looked for among detentions still held or released at most 90 days
  before the 28 days began (``collect.REVIEWED_WITHIN``): a case graded later than that
  after release is not counted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from custody_watch.domain import Detention
from custody_watch.rules.policy import RepeatDetentionPolicy

from .inputs import CaseReview, EarlierArrival
from .tally import GRADES
from .window import digest_window

SHARE_DAYS = 28


def repeat_refs(
    detentions: Iterable[Detention],
    earlier: Iterable[EarlierArrival],
    rule: RepeatDetentionPolicy,
) -> frozenset[str]:
    """The custody refs among ``detentions`` that have ``repeat_detention``."""
    mine = [d for d in detentions if d.person_ref]
    by_person: dict[str, dict[str, datetime]] = {}
    for d in mine:
        assert d.person_ref is not None
        by_person.setdefault(d.person_ref, {})[d.custody_ref] = d.arrival_time
    for other in earlier:
        by_person.setdefault(other.person_ref, {}).setdefault(other.custody_ref, other.arrival_time)
    found: set[str] = set()
    for d in mine:
        assert d.person_ref is not None
        since = d.arrival_time - rule.lookback
        others = sum(
            1
            for ref, arrival in by_person[d.person_ref].items()
            if ref != d.custody_ref and since <= arrival < d.arrival_time
        )
        if others >= rule.other_detentions:
            found.add(d.custody_ref)
    return frozenset(found)


def graded_reviews(
    detentions: Iterable[Detention], stored: Iterable[CaseReview]
) -> list[CaseReview]:
    """Every graded case review, once per custody ref (a loaded detention's own wins)."""
    out: dict[str, CaseReview] = {}
    for d in detentions:
        if d.case_review_grade is not None and d.case_review_time is not None:
            out[d.custody_ref] = CaseReview(
                custody_ref=d.custody_ref,
                suite=d.suite,
                force=d.force,
                grade=d.case_review_grade.value,
                at=d.case_review_time,
            )
    for review in stored:
        out.setdefault(review.custody_ref, review)
    return sorted(out.values(), key=lambda r: (r.at, r.custody_ref))


def share_start(day: date, at: time, zone: tzinfo) -> datetime:
    """The start of the 28 digest windows that end with the window of ``day``."""
    return digest_window(day - timedelta(days=SHARE_DAYS - 1), at, zone).start


def grade_counts(reviews: Sequence[CaseReview], start: datetime, end: datetime) -> dict[str, int]:
    """The graded reviews in ``[start, end)``, by grade (the 28 days' counts: an extra key)."""
    return {g: sum(r.grade == g and start <= r.at < end for r in reviews) for g in GRADES}


def inadequate_share(counts: dict[str, int]) -> float | None:
    graded = sum(counts.values())
    return None if graded == 0 else counts["inadequate"] / graded
