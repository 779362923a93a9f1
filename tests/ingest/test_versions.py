"""versions.py: several rows with one custody_ref are versions of one detention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from custody_watch.domain import Detention
from custody_watch.ingest import latest_versions, read_records_text

from .feeds import feed, good

FORMATS = ["csv", "jsonl"]
ARRIVAL = datetime(2026, 6, 10, 12, tzinfo=UTC)


def version(ref: str, suite: str, updated_at: datetime | None = None) -> Detention:
    return Detention(custody_ref=ref, suite=suite, arrival_time=ARRIVAL, updated_at=updated_at)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, 10, hour, minute, tzinfo=UTC)


def test_the_latest_updated_at_wins() -> None:
    chosen = latest_versions(
        [
            version("C-1", "old", at(13)),
            version("C-1", "new", at(14)),
            version("C-1", "mid", at(13, 30)),
        ]
    )
    assert [d.suite for d in chosen] == ["new"]


def test_a_later_updated_at_wins_even_when_it_comes_first() -> None:
    chosen = latest_versions([version("C-1", "new", at(14)), version("C-1", "old", at(13))])
    assert [d.suite for d in chosen] == ["new"]


def test_a_version_without_updated_at_is_older_than_any_with_one() -> None:
    chosen = latest_versions([version("C-1", "dated", at(1)), version("C-1", "undated")])
    assert [d.suite for d in chosen] == ["dated"]
    chosen = latest_versions([version("C-1", "undated"), version("C-1", "dated", at(1))])
    assert [d.suite for d in chosen] == ["dated"]


def test_between_equal_updated_at_the_later_row_wins() -> None:
    chosen = latest_versions(
        [
            version("C-1", "first", at(13)),
            version("C-1", "second", at(13)),
            version("C-1", "older", at(12)),
        ]
    )
    assert [d.suite for d in chosen] == ["second"]


def test_between_versions_without_updated_at_the_later_row_wins() -> None:
    chosen = latest_versions(
        [version("C-1", "first"), version("C-1", "second"), version("C-1", "third")]
    )
    assert [d.suite for d in chosen] == ["third"]


def test_equal_instants_written_with_different_offsets_are_equal() -> None:
    bst = datetime(2026, 6, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    chosen = latest_versions([version("C-1", "first", at(14)), version("C-1", "second", bst)])
    assert [d.suite for d in chosen] == ["second"]


def test_one_detention_per_custody_ref_in_order_of_first_appearance() -> None:
    chosen = latest_versions(
        [version("C-2", "a"), version("C-1", "b"), version("C-2", "c"), version("C-3", "d")]
    )
    assert [(d.custody_ref, d.suite) for d in chosen] == [("C-2", "c"), ("C-1", "b"), ("C-3", "d")]


def test_no_detentions_give_no_versions() -> None:
    assert latest_versions([]) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_feed_keeps_the_latest_version_of_each_detention(fmt: str) -> None:
    rows = [
        good("C-1", force="v1", updated_at="2026-06-10T13:00:00Z"),
        good("C-2", force="only"),
        good("C-1", force="v3", updated_at="2026-06-10T15:00:00+01:00"),  # 14:00Z, latest
        good("C-1", force="v2", updated_at="2026-06-10T13:30:00Z"),
        good("C-1", force="v0"),  # no updated_at: oldest
    ]
    result = read_records_text(feed(fmt, rows), fmt)  # type: ignore[arg-type]
    assert result.rows == 5
    assert {d.custody_ref: d.force for d in result.detentions} == {"C-1": "v3", "C-2": "only"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_in_a_feed_between_equal_updated_at_the_later_row_wins(fmt: str) -> None:
    rows = [
        good("C-1", force="first", updated_at="2026-06-10T13:00:00Z"),
        good("C-1", force="second", updated_at="2026-06-10T14:00:00+01:00"),
    ]
    [detention] = read_records_text(feed(fmt, rows), fmt).detentions  # type: ignore[arg-type]
    assert detention.force == "second"


@pytest.mark.parametrize("fmt", FORMATS)
def test_rejected_rows_take_no_part_in_choosing_versions(fmt: str) -> None:
    rows = [
        good("C-1", force="good", updated_at="2026-06-10T13:00:00Z"),
        # Newer, but rejected: it must neither win nor hide the good version.
        good("C-1", force="bad", updated_at="2026-06-10T18:00:00Z", legal_basis="nonsense"),
        good(
            "C-1",
            force="bad2",
            updated_at="2026-06-10T19:00:00Z",
            released_time="2020-01-01T00:00:00Z",
        ),
    ]
    result = read_records_text(feed(fmt, rows), fmt)  # type: ignore[arg-type]
    assert [d.force for d in result.detentions] == ["good"]
    assert [(r.row, r.custody_ref) for r in result.rejected] == [(2, "C-1"), (3, "C-1")]


def test_a_detention_whose_every_version_is_rejected_is_absent() -> None:
    rows = [good("C-1", legal_basis="x"), good("C-1", date_of_birth="x"), good("C-2")]
    result = read_records_text(feed("csv", rows), "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-2"]
    assert len(result.rejected) == 2


def test_versions_are_chosen_over_the_whole_file_not_as_of_an_instant() -> None:
    # A version updated in the far future still wins: versions are not chosen as of T.
    rows = [
        good("C-1", force="now", updated_at="2026-06-10T13:00:00Z"),
        good("C-1", force="future", updated_at="2030-01-01T00:00:00Z"),
        good("C-1", force="later-row", updated_at="2026-06-10T14:00:00Z"),
    ]
    [detention] = read_records_text(feed("jsonl", rows), "jsonl").detentions
    assert detention.force == "future"


def test_the_custody_ref_is_matched_after_trimming() -> None:
    rows = [
        good("C-1", force="a", updated_at="2026-06-10T13:00:00Z"),
        good(" C-1 ", force="b", updated_at="2026-06-10T14:00:00Z"),
    ]
    result = read_records_text(feed("csv", rows), "csv")
    assert [(d.custody_ref, d.force) for d in result.detentions] == [("C-1", "b")]
