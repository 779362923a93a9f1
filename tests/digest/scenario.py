"""A scripted day: the digest dated 11 June 2026 (window 07:00 BST 10 June to 07:00 BST 11
June, i.e. 06:00Z to 06:00Z), with every counting rule met at least once, edge instants
included, and a little history for the 7- and 28-day comparison.

Expected totals (worked out by hand from the records below):

- in custody during the window: C-101, C-102, C-103, C-104, C-105, C-106, C-111, C-112 = 8
  (C-109 arrives exactly at the end, C-110 leaves exactly at the start: neither counts)
- arrived in the window: C-101, C-102, C-104, C-105, C-106, C-111, C-112 = 7
- held overnight (22:00-07:00 BST 10/11 June): C-101, C-104, C-105, C-106, C-111 = 5
  (C-103's night was before the window); after charge: C-101, C-111
- released in the window: C-102 (60m), C-103 (20h), C-104 (150m), C-105 (270m),
  C-106 (659m), C-110 (21h, exactly at the start), C-112 (120m) = 7;
  sorted 60, 120, 150, 270, 659, 1200, 1260: median (rank 4) 270, p90 (rank 7) 1260
- charged and refused bail in the window: C-101 (moved to LA accommodation), C-103
  (certificate, impracticable), C-111 (neither) = 3
- place of safety children: C-105; adults: C-107; police protection: C-106
- alerts opened in the window: warning 1, high 1, critical 1 (plus A5 opened earlier);
  acknowledged in the window: A1 12m, A2 40m, A5 (notified 9 June 19:00Z, ack 10 June
  06:30Z) 690m: median 40, p90 690; never acknowledged: A3
- rejected rows received in the window: 2 (1 more the day before)
"""

from __future__ import annotations

from .support import Store, add_alert, add_failed_send, put_records

DAY = "2026-06-11"
NOW = "2026-06-11T06:30:00Z"  # 07:30 BST

A, B, C = "suite-a", "suite-b", "suite-c"
FA, FB = "Force A", "Force B"


def rec(ref: str, suite: str, force: str, arrival: str, **fields: str) -> dict[str, str]:
    return {"custody_ref": ref, "suite": suite, "force": force, "arrival_time": arrival, **fields}


RECORDS = [
    # 15, arrived 09:00 BST; charged, refused bail, LA asked; moved at 09:30 the next day.
    rec(
        "C-101",
        A,
        FA,
        "2026-06-10T09:00:00+01:00",
        date_of_birth="2011-03-01",
        person_ref="P-SECRET-1",
        appropriate_adult_requested_time="2026-06-10T09:30:00+01:00",
        appropriate_adult_arrived_time="2026-06-10T10:00:00+01:00",
        charged_time="2026-06-10T14:00:00+01:00",
        bail_refused_time="2026-06-10T15:00:00+01:00",
        la_accommodation_requested_time="2026-06-10T15:30:00+01:00",
        reviews="2026-06-10T14:30:00+01:00;2026-06-10T23:00:00+01:00",
        released_time="2026-06-11T09:30:00+01:00",
        release_reason="transferred_la",
    ),
    # 12, one hour, bailed.
    rec(
        "C-102",
        A,
        FA,
        "2026-06-10T12:00:00+01:00",
        date_of_birth="2013-09-09",
        appropriate_adult_requested_time="2026-06-10T12:05:00+01:00",
        appropriate_adult_arrived_time="2026-06-10T12:40:00+01:00",
        released_time="2026-06-10T13:00:00+01:00",
        release_reason="bailed",
    ),
    # 16, arrived the evening before; refused bail in the window; certificate; to court.
    rec(
        "C-103",
        A,
        FA,
        "2026-06-09T20:00:00+01:00",
        date_of_birth="2009-12-31",
        appropriate_adult_requested_time="2026-06-09T20:30:00+01:00",
        appropriate_adult_arrived_time="2026-06-09T21:00:00+01:00",
        reviews="2026-06-10T01:00:00+01:00;2026-06-10T09:00:00+01:00",
        charged_time="2026-06-10T08:00:00+01:00",
        bail_refused_time="2026-06-10T08:30:00+01:00",
        s38_certificate_time="2026-06-10T10:00:00+01:00",
        s38_certificate_ground="impracticable",
        released_time="2026-06-10T16:00:00+01:00",
        release_reason="court",
    ),
    # No date of birth, arrived 23:30, released 02:00.
    rec(
        "C-104",
        B,
        FA,
        "2026-06-10T23:30:00+01:00",
        released_time="2026-06-11T02:00:00+01:00",
        release_reason="released",
    ),
    # 11, s.136 at a station, 18:00-22:30.
    rec(
        "C-105",
        B,
        FA,
        "2026-06-10T18:00:00+01:00",
        date_of_birth="2015-01-20",
        legal_basis="mha_s136",
        appropriate_adult_requested_time="2026-06-10T18:10:00+01:00",
        appropriate_adult_arrived_time="2026-06-10T19:00:00+01:00",
        released_time="2026-06-10T22:30:00+01:00",
        release_reason="hospital",
    ),
    # 13, police protection at a station, 20:00 to 06:59.
    rec(
        "C-106",
        C,
        FB,
        "2026-06-10T20:00:00+01:00",
        date_of_birth="2013-02-02",
        legal_basis="police_protection",
        released_time="2026-06-11T06:59:00+01:00",
        release_reason="other",
    ),
    # An adult under s.136 at a station.
    rec(
        "C-107",
        C,
        FB,
        "2026-06-10T10:00:00+01:00",
        date_of_birth="1990-05-05",
        legal_basis="mha_s136",
        released_time="2026-06-10T18:00:00+01:00",
        release_reason="hospital",
    ),
    # An adult arrested: counts nowhere.
    rec("C-108", C, FB, "2026-06-10T11:00:00+01:00", date_of_birth="1985-01-01"),
    # 17, arrives exactly at the window's end: not this day.
    rec("C-109", A, FA, "2026-06-11T07:00:00+01:00", date_of_birth="2009-01-01"),
    # 14, leaves exactly at the window's start: released in it, never in custody in it.
    rec(
        "C-110",
        B,
        FA,
        "2026-06-09T10:00:00+01:00",
        date_of_birth="2012-01-01",
        appropriate_adult_requested_time="2026-06-09T10:10:00+01:00",
        appropriate_adult_arrived_time="2026-06-09T10:30:00+01:00",
        released_time="2026-06-10T07:00:00+01:00",
        release_reason="bailed",
    ),
    # 15, no appropriate adult ever; refused bail and still held; a review late overnight.
    rec(
        "C-111",
        B,
        FA,
        "2026-06-10T11:00:00+01:00",
        date_of_birth="2010-08-08",
        reviews="2026-06-10T16:30:00+01:00;2026-06-11T03:00:00+01:00",
        charged_time="2026-06-10T18:00:00+01:00",
        bail_refused_time="2026-06-10T19:00:00+01:00",
    ),
    # 10, arrives exactly at the window's start.
    rec(
        "C-112",
        A,
        FA,
        "2026-06-10T07:00:00+01:00",
        date_of_birth="2016-03-03",
        appropriate_adult_requested_time="2026-06-10T07:10:00+01:00",
        appropriate_adult_arrived_time="2026-06-10T07:40:00+01:00",
        released_time="2026-06-10T09:00:00+01:00",
        release_reason="released",
    ),
]

# Rows a feed check rejects (no UTC offset; a bad date of birth).
REJECTED = [
    rec("C-120", A, FA, "2026-06-10T09:00:00"),
    rec("C-121", A, FA, "2026-06-10T10:00:00+01:00", date_of_birth="2011-02-30"),
]

# Earlier days: children held overnight and refused bail, for the trend and averages.
HISTORY = [
    rec(
        "C-090",
        A,
        FA,
        "2026-06-05T21:00:00+01:00",
        date_of_birth="2010-01-01",
        appropriate_adult_requested_time="2026-06-05T21:10:00+01:00",
        appropriate_adult_arrived_time="2026-06-05T21:40:00+01:00",
        released_time="2026-06-06T09:00:00+01:00",
        release_reason="bailed",
    ),
    rec(
        "C-091",
        B,
        FA,
        "2026-05-20T10:00:00+01:00",
        date_of_birth="2009-06-01",
        appropriate_adult_requested_time="2026-05-20T10:10:00+01:00",
        appropriate_adult_arrived_time="2026-05-20T10:40:00+01:00",
        charged_time="2026-05-20T15:00:00+01:00",
        bail_refused_time="2026-05-20T16:00:00+01:00",
        la_accommodation_requested_time="2026-05-20T16:10:00+01:00",
        released_time="2026-05-20T19:00:00+01:00",
        release_reason="transferred_la",
    ),
]


def scripted_day(store: Store) -> None:
    put_records(store, HISTORY, "2026-06-06T09:00:00Z", label="history.csv")
    put_records(store, [REJECTED[0]], "2026-06-10T05:00:00Z", label="early.csv")  # before
    put_records(store, RECORDS + REJECTED[1:], "2026-06-10T12:00:00Z")
    put_records(store, REJECTED[:1], "2026-06-11T05:59:59Z", label="late.csv")
    a1 = add_alert(
        store,
        subject="detention:C-101",
        custody_ref="C-101",
        suite=A,
        force=FA,
        opened_at="2026-06-10T09:00:00Z",
        notified_at="2026-06-10T09:00:00Z",
        acknowledged_at="2026-06-10T09:12:00Z",
        severity="warning",
        ack_code="1001",
    )
    assert a1
    add_alert(
        store,
        subject="detention:C-111",
        custody_ref="C-111",
        suite=B,
        force=FA,
        opened_at="2026-06-10T13:00:00Z",
        notified_at="2026-06-10T13:00:30Z",
        acknowledged_at="2026-06-10T13:40:40Z",
        severity="high",
        ack_code="1002",
    )
    a3 = add_alert(
        store,
        subject="detention:C-105",
        custody_ref="C-105",
        suite=B,
        force=FA,
        opened_at="2026-06-10T17:01:00Z",
        notified_at="2026-06-10T17:01:00Z",
        resolved_at="2026-06-10T21:30:00Z",
        severity="critical",
        rule="place_of_safety_child",
        ack_code="1003",
    )
    add_alert(
        store,
        subject="detention:C-103",
        custody_ref="C-103",
        suite=A,
        force=FA,
        opened_at="2026-06-09T19:00:00Z",
        notified_at="2026-06-09T19:00:00Z",
        acknowledged_at="2026-06-10T06:30:00Z",
        severity="warning",
        ack_code="1004",
    )
    # Opened exactly at the window's end: the next day's.
    add_alert(
        store,
        subject="detention:C-109",
        custody_ref="C-109",
        suite=A,
        force=FA,
        opened_at="2026-06-11T06:00:00Z",
        notified_at="2026-06-11T06:00:00Z",
        severity="warning",
        ack_code="1005",
    )
    add_failed_send(store, a3, "2026-06-10T17:05:00Z", "a3-sms")
    add_failed_send(store, a3, "2026-06-11T06:00:00Z", "a3-late")  # at the end: not counted
