"""Each counting rule of ``shared/spec/cli.md`` ("The daily digest as data"), on plain inputs,
with the edge instants: exactly at the window's start is in it, exactly at its end is not.

The digest dated 2026-06-11 covers 06:00Z 10 June (07:00 BST) to 06:00Z 11 June."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from custody_watch.digest.figures import digest_figures
from custody_watch.digest.inputs import (
    AlertFact,
    DeliveryFailure,
    DigestInputs,
    FailedPoll,
    RejectedRow,
    SilentPeriod,
    SourceInfo,
)
from custody_watch.digest.tally import age_band, nearest_rank
from custody_watch.domain import CertificateGround, Detention, LegalBasis, ReleaseReason
from custody_watch.rules.policy import Policy
from custody_watch.times import parse_instant

DAY = date(2026, 6, 11)
START = "2026-06-10T06:00:00Z"
END = "2026-06-11T06:00:00Z"
POLICY = Policy()
CHILD_DOB = date(2011, 3, 1)  # 15 in June 2026


def t(text: str) -> datetime:
    return parse_instant(text)


def child(ref: str = "C-1", arrival: str = "2026-06-10T08:00:00Z", **fields: Any) -> Detention:
    values: dict[str, Any] = {"date_of_birth": CHILD_DOB}
    values.update(fields)
    return Detention(custody_ref=ref, suite="S1", arrival_time=t(arrival), **values)


def figures(*detentions: Detention, **inputs: Any) -> dict[str, Any]:
    return digest_figures(
        DAY,
        time(7, 0),
        POLICY,
        DigestInputs(detentions=detentions, **inputs),
        history=False,
    )


def totals(*detentions: Detention, **inputs: Any) -> dict[str, Any]:
    result: dict[str, Any] = figures(*detentions, **inputs)["totals"]
    return result


CONTRACT_KEYS = [
    "children_in_custody",
    "children_arrived",
    "children_held_overnight",
    "children_released",
    "time_in_custody_minutes",
    "charged_refused_bail",
    "transferred_la",
    "certified",
    "place_of_safety_children",
    "police_protection_at_station",
    "alerts_raised",
    "ack_minutes",
    "quarantined_rows",
]


def test_the_shape_is_the_contract() -> None:
    result = figures(child())
    assert result["date"] == "2026-06-11"
    assert result["window_start"] == START
    assert result["window_end"] == END
    assert list(result["totals"])[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert list(result["suites"]["S1"])[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert result["totals"]["time_in_custody_minutes"] == {"median": None, "p90": None, "max": None}
    assert result["totals"]["alerts_raised"] == {"warning": 0, "high": 0, "critical": 0}
    assert result["totals"]["ack_minutes"] == {"median": None, "p90": None}


# -- children_in_custody --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrival", "released", "counted"),
    [
        (START, None, True),  # arrives exactly at the start
        (END, None, False),  # arrives exactly at the end
        ("2026-06-11T05:59:59Z", None, True),
        ("2026-06-09T10:00:00Z", START, False),  # leaves exactly at the start
        ("2026-06-09T10:00:00Z", "2026-06-10T06:00:01Z", True),
        ("2026-06-09T10:00:00Z", END, True),  # leaves exactly at the end
        ("2026-06-11T07:00:00Z", "2026-06-11T08:00:00Z", False),  # after
        ("2026-06-10T09:00:00Z", "2026-06-10T09:00:00Z", False),  # never in custody
    ],
)
def test_children_in_custody_at_any_instant_of_the_window(
    arrival: str, released: str | None, counted: bool
) -> None:
    d = child(arrival=arrival, released_time=t(released) if released else None)
    assert totals(d)["children_in_custody"] == int(counted)


def test_adults_are_not_counted_and_a_missing_dob_is_a_child() -> None:
    adult = child("A-1", date_of_birth=date(1990, 1, 1))
    unknown = child("U-1", date_of_birth=None)
    result = totals(adult, unknown)
    assert result["children_in_custody"] == 1
    assert result["missing_dob"] == 1
    assert result["age_bands"]["unknown"] == 1


def test_age_is_on_the_local_date_of_arrest() -> None:
    # 18 on 10 June: arrested at 23:30 BST on 9 June (17), arriving after midnight: a child.
    arrested_at_17 = child(
        arrival="2026-06-09T23:10:00Z",
        arrest_time=t("2026-06-09T22:30:00Z"),
        date_of_birth=date(2008, 6, 10),
    )
    # Arrested at 00:30 BST on 10 June (18): an adult.
    arrested_at_18 = child(
        "C-2",
        arrival="2026-06-09T23:40:00Z",
        arrest_time=t("2026-06-09T23:30:00Z"),
        date_of_birth=date(2008, 6, 10),
    )
    assert totals(arrested_at_17, arrested_at_18)["children_in_custody"] == 1


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (None, "unknown"),
        (9, "under_10"),
        (10, "10_11"),
        (11, "10_11"),
        (12, "12_13"),
        (15, "14_15"),
        (17, "16_17"),
    ],
)
def test_age_bands(age: int | None, band: str) -> None:
    assert age_band(age) == band


# -- children_arrived / children_released ---------------------------------------------------


@pytest.mark.parametrize(
    ("arrival", "counted"), [(START, True), (END, False), ("2026-06-10T05:59:59Z", False)]
)
def test_children_arrived(arrival: str, counted: bool) -> None:
    assert totals(child(arrival=arrival))["children_arrived"] == int(counted)


@pytest.mark.parametrize(
    ("released", "counted"),
    [(START, True), (END, False), ("2026-06-10T05:59:59Z", False), ("2026-06-11T05:59:00Z", True)],
)
def test_children_released_by_release_time(released: str, counted: bool) -> None:
    d = child(arrival="2026-06-09T20:00:00Z", released_time=t(released))
    assert totals(d)["children_released"] == int(counted)


def test_time_in_custody_is_whole_minutes_by_nearest_rank() -> None:
    base = t("2026-06-10T08:00:00Z")
    minutes = [30, 10, 50, 20, 40, 100, 90, 80, 70, 60]  # ten children
    # Each released m minutes and 59 seconds after arrival: that is m whole minutes.
    kids = [child(f"C-{m}", released_time=base + timedelta(minutes=m, seconds=59)) for m in minutes]
    result = totals(*kids)["time_in_custody_minutes"]
    # Sorted 10..100: median rank ceil(5) = 5 -> 50; p90 rank ceil(9) = 9 -> 90.
    assert result == {"median": 50, "p90": 90, "max": 100}


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([7], 7, 7),
        ([1, 2], 1, 2),
        ([3, 1, 2], 2, 3),
        (list(range(1, 21)), 10, 18),
        ([], None, None),
    ],
)
def test_nearest_rank(values: list[int], median: int | None, p90: int | None) -> None:
    assert nearest_rank(values, 1, 2) == median
    assert nearest_rank(values, 9, 10) == p90


# -- children_held_overnight ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrival", "released", "counted"),
    [
        ("2026-06-10T20:00:00Z", "2026-06-10T20:59:59Z", False),  # 21:00-21:59 BST
        ("2026-06-10T20:00:00Z", "2026-06-10T21:00:00Z", False),  # leaves at 22:00 BST exactly
        ("2026-06-10T20:00:00Z", "2026-06-10T21:00:01Z", True),
        ("2026-06-11T05:59:00Z", None, True),  # 06:59 BST on the 11th
        ("2026-06-10T06:00:00Z", "2026-06-10T20:00:00Z", False),  # a day, no night
        # Held through the night before the window and released at its start's first hour.
        ("2026-06-09T21:30:00Z", "2026-06-10T06:30:00Z", False),
    ],
)
def test_children_held_overnight(arrival: str, released: str | None, counted: bool) -> None:
    d = child(arrival=arrival, released_time=t(released) if released else None)
    assert totals(d)["children_held_overnight"] == int(counted)


def test_overnight_before_and_after_charge() -> None:
    before = child("C-1", arrival="2026-06-10T20:00:00Z", charged_time=t("2026-06-11T05:00:00Z"))
    after = child("C-2", arrival="2026-06-10T10:00:00Z", charged_time=t("2026-06-10T12:00:00Z"))
    result = totals(before, after)
    assert result["children_held_overnight"] == 2
    assert result["held_overnight_before_charge"] == 1
    assert result["held_overnight_after_charge"] == 2  # C-1 from 06:00 BST too


# -- charged_refused_bail, transferred_la, certified ----------------------------------------


def test_charged_refused_bail_by_refusal_time() -> None:
    at_start = child("C-1", arrival="2026-06-10T01:00:00Z", bail_refused_time=t(START))
    at_end = child("C-2", arrival="2026-06-10T01:00:00Z", bail_refused_time=t(END))
    moved = child(
        "C-3",
        bail_refused_time=t("2026-06-10T12:00:00Z"),
        released_time=t("2026-06-11T09:00:00Z"),  # after the window: still counted
        release_reason=ReleaseReason.TRANSFERRED_LA,
    )
    certified = child(
        "C-4",
        bail_refused_time=t("2026-06-10T12:00:00Z"),
        s38_certificate_time=t("2026-06-10T14:00:00Z"),
        s38_certificate_ground=CertificateGround.NO_SECURE_ACCOMMODATION,
    )
    adult = child("A-1", date_of_birth=date(1990, 1, 1), bail_refused_time=t(START))
    result = totals(at_start, at_end, moved, certified, adult)
    assert result["charged_refused_bail"] == 3
    assert result["transferred_la"] == 1
    assert result["certified"] == 1
    assert result["refused_bail_neither"] == 1
    assert result["certificate_grounds"]["no_secure_accommodation"] == 1
    listed = figures(at_start, moved, certified)["charged_refused_bail_children"]
    assert [(c["custody_ref"], c["outcome"]) for c in listed] == [
        ("C-1", "neither"),
        ("C-3", "transferred_la"),
        ("C-4", "certified"),
    ]


# -- places of safety, police protection ----------------------------------------------------


def test_places_of_safety_and_police_protection() -> None:
    s136 = child("C-1", legal_basis=LegalBasis.MHA_S136)
    s135 = child("C-2", legal_basis=LegalBasis.MHA_S135, released_time=t(START))  # gone
    s135_in = child("C-3", legal_basis=LegalBasis.MHA_S135, arrival=START)
    protection = child("C-4", legal_basis=LegalBasis.POLICE_PROTECTION)
    adult = child("A-1", legal_basis=LegalBasis.MHA_S136, date_of_birth=date(1980, 1, 1))
    result = totals(
        s136, replace(s135, arrival_time=t("2026-06-09T06:00:00Z")), s135_in, protection, adult
    )
    assert result["place_of_safety_children"] == 2
    assert result["place_of_safety_adults"] == 1
    assert result["police_protection_at_station"] == 1


# -- alerts -----------------------------------------------------------------------------------


def alert(
    n: int, opened: str, severity: str, notified: str | None = None, acked: str | None = None
) -> AlertFact:
    return AlertFact(
        id=n,
        subject=f"detention:C-{n}",
        custody_ref=f"C-{n}",
        suite="S1",
        force=None,
        opened_at=t(opened),
        opened_severity=severity,
        first_notified_at=t(notified) if notified else None,
        first_acknowledged_at=t(acked) if acked else None,
    )


def test_alerts_raised_by_opened_severity_in_the_window() -> None:
    alerts = [
        alert(1, START, "warning"),
        alert(2, "2026-06-10T12:00:00Z", "high"),
        alert(3, "2026-06-10T13:00:00Z", "critical"),
        alert(4, "2026-06-10T14:00:00Z", "critical"),
        alert(5, END, "critical"),
        alert(6, "2026-06-10T05:59:59Z", "high"),
    ]
    result = totals(alerts=alerts)
    assert result["alerts_raised"] == {"warning": 1, "high": 1, "critical": 2}
    assert result["alerts_never_acknowledged"] == 4


def test_system_alerts_count_in_totals_only() -> None:
    system = replace(
        alert(1, "2026-06-10T12:00:00Z", "high"),
        suite=None,
        custody_ref=None,
        subject="feed_stale:S1",
    )
    result = figures(alerts=[system, alert(2, "2026-06-10T12:00:00Z", "warning")])
    assert result["totals"]["alerts_total"] == 2
    assert result["suites"]["S1"]["alerts_total"] == 1


def test_ack_minutes_from_first_notification_for_alerts_acknowledged_in_the_window() -> None:
    alerts = [
        alert(1, "2026-06-10T04:00:00Z", "high", "2026-06-10T04:00:00Z", START),  # 120
        alert(2, "2026-06-10T12:00:00Z", "high", "2026-06-10T12:00:30Z", "2026-06-10T12:10:29Z"),
        alert(3, "2026-06-10T12:00:00Z", "high", "2026-06-10T12:00:00Z", END),  # next day
        alert(4, "2026-06-10T12:00:00Z", "high", None, "2026-06-10T12:05:00Z"),  # never notified
        alert(5, "2026-06-10T12:00:00Z", "high", "2026-06-10T12:00:00Z", "2026-06-10T12:30:00Z"),
    ]
    # 9 (9m59s rounds down), 30, 120 -> median rank 2 = 30; p90 rank 3 = 120.
    assert totals(alerts=alerts)["ack_minutes"] == {"median": 30, "p90": 120}


# -- quarantined_rows, delivery failures, outages --------------------------------------------


def test_quarantined_rows_by_received_time() -> None:
    rows = [
        RejectedRow(t(START), "feed", "S1"),
        RejectedRow(t("2026-06-10T10:00:00Z"), "feed", None),
        RejectedRow(t(END), "feed", "S1"),
    ]
    result = figures(rejected=rows)
    assert result["totals"]["quarantined_rows"] == 2
    assert result["suites"]["S1"]["quarantined_rows"] == 1
    assert result["data_quality"]["quarantined_not_traced_to_a_suite"] == 1


def test_delivery_failures_in_the_window() -> None:
    failures = [
        DeliveryFailure(t(START), "insp-a", "sms", "S1"),
        DeliveryFailure(t(END), "insp-a", "sms", "S1"),
    ]
    assert totals(delivery_failures=failures)["delivery_failures"] == 1


def test_outages_make_the_data_incomplete() -> None:
    assert not figures(child())["data_quality"]["incomplete"]
    result = figures(
        failed_polls=[
            FailedPoll("feed", t("2026-06-11T01:00:00Z"), "connection refused"),
            FailedPoll("feed", t("2026-06-11T01:10:00Z"), "timed out"),
            FailedPoll("feed", t(END), "after the window"),
        ],
        silent_periods=[SilentPeriod("feed", t("2026-06-11T00:55:00Z"), None)],
    )
    quality = result["data_quality"]
    assert quality["incomplete"]
    polls, silent = sorted(quality["outages"], key=lambda o: o["kind"])
    assert polls["failed_polls"] == 2 and polls["last_error"] == "timed out"
    assert polls["start"] == "2026-06-11T01:00:00Z" and polls["end"] == "2026-06-11T01:10:00Z"
    assert silent["ongoing"] and silent["start"] == "2026-06-11T00:55:00Z"


def test_a_silence_that_ended_before_the_window_is_not_an_outage() -> None:
    result = figures(silent_periods=[SilentPeriod("feed", t("2026-06-09T00:00:00Z"), t(START))])
    assert result["data_quality"]["outages"] == []


def test_a_source_first_read_during_the_window_makes_it_incomplete() -> None:
    result = figures(sources=[SourceInfo("feed", t("2026-06-10T12:00:00Z"))])
    assert result["data_quality"]["incomplete"]


def test_a_window_not_over_yet_is_incomplete() -> None:
    result = digest_figures(
        DAY, time(7), POLICY, DigestInputs(), now=t("2026-06-11T05:00:00Z"), history=False
    )
    assert result["data_quality"]["window_not_over"]


# -- extra figures ---------------------------------------------------------------------------


def test_held_over_8_hours_within_the_window() -> None:
    long = child("C-1", arrival="2026-06-10T06:00:00Z", released_time=t("2026-06-10T14:00:01Z"))
    exactly = child("C-2", arrival="2026-06-10T06:00:00Z", released_time=t("2026-06-10T14:00:00Z"))
    earlier = child("C-3", arrival="2026-06-09T20:00:00Z", released_time=t("2026-06-10T07:00:00Z"))
    result = figures(long, exactly, earlier)
    assert result["totals"]["children_held_over_8h"] == 2
    assert result["children_over_8h"] == ["C-3", "C-1"]


def test_appropriate_adult_delays() -> None:
    never = child("C-1", arrival="2026-06-10T08:00:00Z")
    prompt = child("C-2", appropriate_adult_arrived_time=t("2026-06-10T10:00:00Z"))
    late = child("C-3", appropriate_adult_arrived_time=t("2026-06-10T12:00:00Z"))
    protection = child("C-4", legal_basis=LegalBasis.POLICE_PROTECTION)
    short = child("C-5", released_time=t("2026-06-10T10:59:00Z"))
    assert totals(never, prompt, late, protection, short)["appropriate_adult_delays"] == 2


def test_reviews_late() -> None:
    on_time = child("C-1", arrival="2026-06-10T08:00:00Z", reviews=(t("2026-06-10T13:00:00Z"),))
    first_late = child("C-2", arrival="2026-06-10T08:00:00Z", reviews=(t("2026-06-10T15:00:00Z"),))
    never = child("C-3", arrival="2026-06-10T08:00:00Z")  # due 14:00Z, still held
    s136 = child("C-4", arrival="2026-06-10T08:00:00Z", legal_basis=LegalBasis.MHA_S136)
    result = totals(on_time, first_late, never, s136)
    # C-1 reviewed at 13:00, next due 22:00Z: still held and not reviewed: late too.
    assert result["reviews_late"] == 3
    released = replace(on_time, released_time=t("2026-06-10T21:59:00Z"))
    assert totals(released)["reviews_late"] == 0


def test_a_quiet_day() -> None:
    assert figures()["quiet"]
    assert not figures(child())["quiet"]


def test_the_previous_days_are_daily_averages_with_a_direction() -> None:
    earlier = [
        child(
            f"H-{n}", arrival=f"2026-06-0{n}T12:00:00Z", released_time=t(f"2026-06-0{n}T13:00:00Z")
        )
        for n in (4, 5, 6, 7, 8, 9, 9)
    ]  # 7 children over the 7 days before: one a day on average
    today = [child("C-1"), child("C-2")]
    watched = [SourceInfo("feed", t("2026-05-01T00:00:00Z"))]  # polled for six weeks
    result = digest_figures(
        DAY, time(7), POLICY, DigestInputs(detentions=[*earlier, *today], sources=watched)
    )
    week = result["previous_7_days"]
    assert week["too_little_history"] is False
    assert week["days"] == 7 and week["from"] == "2026-06-04" and week["to"] == "2026-06-10"
    assert week["daily_average"]["children_in_custody"] == 1
    assert week["change"]["children_in_custody"] == "up"
    assert result["previous_28_days"]["daily_average"]["children_in_custody"] == 0.25
    assert week["time_in_custody_minutes"]["median"] == 60
    assert len(result["trend"]) == 29 and result["trend"][-1]["date"] == "2026-06-11"


@pytest.mark.parametrize(
    ("first_poll", "short"),
    [
        (None, {7, 28}),  # never polled, and no earlier arrival: no history at all
        ("2026-06-06T12:00:00Z", {7, 28}),  # five days of watching
        ("2026-06-03T06:00:00Z", {28}),  # the 7-day period (4-10 June) starts 06:00Z on 3 June
        ("2026-05-13T06:00:00Z", set()),  # the 28-day period starts 06:00Z on 13 May
    ],
)
def test_a_period_before_the_stores_data_begin_claims_no_change(
    first_poll: str | None, short: set[int]
) -> None:
    sources = [SourceInfo("feed", None if first_poll is None else t(first_poll))]
    result = digest_figures(
        DAY, time(7), POLICY, DigestInputs(detentions=[child("C-1")], sources=sources)
    )
    for days in (7, 28):
        period = result[f"previous_{days}_days"]
        assert period["too_little_history"] is (days in short)
        changes = set(period["change"].values())
        assert changes == {None} if days in short else "up" in changes


def test_an_earlier_arrival_imported_counts_as_history_though_the_first_poll_was_today() -> None:
    imported = child("H-1", arrival="2026-05-01T12:00:00Z", released_time=t("2026-05-01T13:00:00Z"))
    result = digest_figures(
        DAY,
        time(7),
        POLICY,
        DigestInputs(
            detentions=[imported, child("C-1")],
            sources=[SourceInfo("feed", t("2026-06-10T12:00:00Z"))],
        ),
    )
    assert result["previous_28_days"]["too_little_history"] is False
