"""``custody-watch digest --date D``: golden text and HTML of a scripted day, its figures against
a count by hand, an empty day, a day with a feed outage, and the 25- and 23-hour days.

Golden files are in ``golden/``; after a deliberate change to the digest's wording, rewrite
them with ``CUSTODY_WATCH_UPDATE_GOLDEN=1 pytest tests/digest`` and read the diff."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from custody_watch.cli import main

from .scenario import DAY, NOW, scripted_day
from .support import Store, add_alert, add_source_failure, make_store, put_records

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("CUSTODY_WATCH_UPDATE_GOLDEN"))


def run(store: Store, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main([*args, "--config", str(store.config)])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def digest(store: Store, capsys: pytest.CaptureFixture[str], day: str, now: str, fmt: str) -> str:
    code, out, err = run(store, capsys, "digest", "--date", day, "--now", now, "--format", fmt)
    assert code == 0, err
    return out


def figures(store: Store, capsys: pytest.CaptureFixture[str], day: str, now: str) -> Any:
    return json.loads(digest(store, capsys, day, now, "json"))


def flat(text: str) -> str:
    """The text with its line wrapping undone."""
    return " ".join(text.split())


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {name}: write it with CUSTODY_WATCH_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


# -- the scripted day ------------------------------------------------------------------------


def test_the_scripted_day_counts_what_a_person_counts(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    scripted_day(store)
    data = figures(store, capsys, DAY, NOW)

    assert data["date"] == "2026-06-11"
    assert data["window_start"] == "2026-06-10T06:00:00Z"
    assert data["window_end"] == "2026-06-11T06:00:00Z"
    totals = data["totals"]
    assert {k: totals[k] for k in list(totals)[:13]} == {
        "children_in_custody": 8,
        "children_arrived": 7,
        "children_held_overnight": 5,
        "children_released": 7,
        "time_in_custody_minutes": {"median": 270, "p90": 1260, "max": 1260},
        "charged_refused_bail": 3,
        "transferred_la": 1,
        "certified": 1,
        "place_of_safety_children": 1,
        "police_protection_at_station": 1,
        "alerts_raised": {"warning": 1, "high": 1, "critical": 1},
        "ack_minutes": {"median": 40, "p90": 690},
        "quarantined_rows": 2,
    }
    assert set(data["suites"]) == {"suite-a", "suite-b", "suite-c"}
    a, b, c = (data["suites"][s] for s in ("suite-a", "suite-b", "suite-c"))
    assert (a["children_in_custody"], b["children_in_custody"], c["children_in_custody"]) == (
        4,
        3,
        1,
    )
    for key in ("children_in_custody", "children_arrived", "children_released"):
        assert a[key] + b[key] + c[key] == totals[key]
    assert b["time_in_custody_minutes"] == {"median": 270, "p90": 1260, "max": 1260}
    assert c["police_protection_at_station"] == 1 and c["place_of_safety_adults"] == 1
    assert a["quarantined_rows"] == 2  # the rejected rows name suite-a
    assert data["children_over_8h"] == ["C-103", "C-101", "C-111", "C-106"]
    assert data["forces"]["Force A"]["children_in_custody"] == 7
    assert totals["appropriate_adult_delays"] == 1 and totals["reviews_late"] == 1
    assert totals["delivery_failures"] == 1 and totals["missing_dob"] == 1
    assert not data["data_quality"]["incomplete"]


def test_the_scripted_day_as_text(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    scripted_day(store)
    text = digest(store, capsys, DAY, NOW, "text")
    golden("scripted-day.txt", text)
    assert "P-SECRET-1" not in text and "2011-03-01" not in text  # no person ref, no DOB


def images_named(html: str) -> str:
    """The HTML with each chart's inline PNG replaced by a short stand-in: ``--format html``
    puts the charts into the page as ``data:`` URIs (the email carries them as ``cid:``
    attachments), and the PNG's bytes are the charts' business (test_charts), not the
    layout's."""
    return re.sub(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"', 'src="data:image/png;..."', html)


def test_the_scripted_day_as_html(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    scripted_day(store)
    html = digest(store, capsys, DAY, NOW, "html")
    golden("scripted-day.html", images_named(html))
    # Both charts are in the page itself, nothing left pointing at an attachment.
    assert html.count('src="data:image/png;base64,iVBORw0KGgo') == 2
    assert 'src="cid:' not in html
    assert "P-SECRET-1" not in html and "2011-03-01" not in html


# -- an empty day ---------------------------------------------------------------------------


def test_an_empty_day_says_it_was_quiet(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    data = figures(store, capsys, DAY, NOW)
    assert data["totals"]["children_in_custody"] == 0
    assert data["totals"]["time_in_custody_minutes"] == {"median": None, "p90": None, "max": None}
    assert data["totals"]["ack_minutes"] == {"median": None, "p90": None}
    assert data["suites"] == {}
    assert data["quiet"]
    text = digest(store, capsys, DAY, NOW, "text")
    golden("empty-day.txt", text)
    assert "A quiet day" in text
    html = digest(store, capsys, DAY, NOW, "html")
    assert "A quiet day" in html and "<img" not in html.split("previous 7 and 28")[0]


# -- a day with a feed outage ----------------------------------------------------------------


def outage_day(store: Store) -> None:
    put_records(
        store,
        [
            {
                "custody_ref": "C-201",
                "suite": "suite-a",
                "arrival_time": "2026-06-10T20:00:00+01:00",
                "date_of_birth": "2010-10-10",
                "appropriate_adult_requested_time": "2026-06-10T20:10:00+01:00",
                "appropriate_adult_arrived_time": "2026-06-10T20:50:00+01:00",
                "released_time": "2026-06-10T23:00:00+01:00",
                "release_reason": "bailed",
            }
        ],
        "2026-06-10T19:00:00Z",
    )
    for minute in range(10, 41, 10):  # 01:10 to 01:40 BST
        add_source_failure(store, "suite-a", f"2026-06-11T00:{minute}:00Z", "connection refused")
    add_source_failure(store, "suite-a", "2026-06-11T02:40:00Z", "timed out after 30s")
    add_alert(
        store,
        subject="feed_stale:suite-a",
        opened_at="2026-06-11T00:10:00Z",
        notified_at="2026-06-11T00:10:00Z",
        acknowledged_at="2026-06-11T00:25:00Z",
        resolved_at="2026-06-11T02:45:00Z",
        severity="high",
        rule="feed_stale",
        since="2026-06-10T23:55:00Z",
    )


def test_a_day_with_a_feed_outage_says_the_data_is_incomplete(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    outage_day(store)
    data = figures(store, capsys, DAY, NOW)
    quality = data["data_quality"]
    assert quality["incomplete"]
    assert [(o["kind"], o["start"], o["end"]) for o in quality["outages"]] == [
        ("silent", "2026-06-10T23:55:00Z", "2026-06-11T02:45:00Z"),
        ("failed_polls", "2026-06-11T00:10:00Z", "2026-06-11T02:40:00Z"),
    ]
    assert quality["outages"][1]["failed_polls"] == 5
    assert data["totals"]["alerts_raised"]["high"] == 1  # the feed_stale alert
    assert data["suites"]["suite-a"]["alerts_raised"]["high"] == 0
    text = digest(store, capsys, DAY, NOW, "text")
    golden("outage-day.txt", text)
    assert "The data for this period is incomplete" in flat(text)
    nothing = "suite-a delivered nothing from Thu 11 Jun 00:55 BST until Thu 11 Jun 03:45 BST"
    assert nothing in flat(text)
    assert "suite-a failed to answer 5 polls between Thu 11 Jun 01:10 BST and" in flat(text)
    assert "timed out" not in text  # the source's own error text stays out of the email
    html = digest(store, capsys, DAY, NOW, "html")
    golden("outage-day.html", images_named(html))
    assert "Data incomplete." in html


def test_a_quiet_day_with_an_outage_does_not_claim_all_was_well(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    add_source_failure(store, "suite-a", "2026-06-11T01:00:00Z", "connection refused")
    text = digest(store, capsys, DAY, NOW, "text")
    assert "A quiet day" in text and "may not be the whole picture" in flat(text)


def test_a_day_not_over_yet_says_so(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    text = digest(store, capsys, DAY, "2026-06-11T03:00:00Z", "text")
    assert "the period has not ended yet" in flat(text)


# -- clock changes ---------------------------------------------------------------------------


def child(ref: str, arrival: str, released: str | None = None, **more: str) -> dict[str, str]:
    row = {
        "custody_ref": ref,
        "suite": "suite-a",
        "arrival_time": arrival,
        "date_of_birth": "2011-01-01",
        "appropriate_adult_requested_time": arrival,
        "appropriate_adult_arrived_time": arrival,
        **more,
    }
    if released:
        row |= {"released_time": released, "release_reason": "bailed"}
    return row


def test_the_october_day_is_25_hours(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    put_records(
        store,
        [
            # 07:00 BST on the 24th: the first instant of the window.
            child("C-301", "2026-10-24T06:00:00Z", "2026-10-24T08:00:00Z"),
            # 23:30 BST to 01:30 GMT: three hours elapsed though the wall clock says two.
            child("C-302", "2026-10-24T22:30:00Z", "2026-10-25T01:30:00Z"),
            # 06:30 GMT on the 25th: inside the 25th hour of the window.
            child("C-303", "2026-10-25T06:30:00Z"),
            # 07:00 GMT on the 25th: the end, so the next day's.
            child("C-304", "2026-10-25T07:00:00Z"),
        ],
        "2026-10-25T07:00:00Z",
    )
    data = figures(store, capsys, "2026-10-25", "2026-10-25T07:30:00Z")
    assert data["window_start"] == "2026-10-24T06:00:00Z"
    assert data["window_end"] == "2026-10-25T07:00:00Z"
    assert data["window_hours"] == 25
    totals = data["totals"]
    assert totals["children_in_custody"] == 3
    assert totals["children_arrived"] == 3
    assert totals["children_released"] == 2
    assert totals["time_in_custody_minutes"] == {"median": 120, "p90": 180, "max": 180}
    assert totals["children_held_overnight"] == 2  # C-302 and C-303 (06:30 GMT)
    text = digest(store, capsys, "2026-10-25", "2026-10-25T07:30:00Z", "text")
    golden("october-25-hours.txt", text)
    assert "(25 hours: the clocks went back)" in flat(text)


def test_the_march_day_is_23_hours(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    put_records(
        store,
        [
            # 23:00 GMT to 00:30 GMT: ninety minutes.
            child("C-401", "2026-03-28T23:00:00Z", "2026-03-29T00:30:00Z"),
            # 02:30 BST (01:30Z), after the jump: overnight.
            child("C-402", "2026-03-29T01:30:00Z", "2026-03-29T03:00:00Z"),
            # 07:00 BST (06:00Z): the end, so the next day's.
            child("C-403", "2026-03-29T06:00:00Z"),
            # 07:00 GMT on the 28th: the start.
            child("C-404", "2026-03-28T07:00:00Z", "2026-03-28T08:00:00Z"),
        ],
        "2026-03-29T07:00:00Z",
    )
    data = figures(store, capsys, "2026-03-29", "2026-03-29T07:00:00Z")
    assert data["window_start"] == "2026-03-28T07:00:00Z"
    assert data["window_end"] == "2026-03-29T06:00:00Z"
    assert data["window_hours"] == 23
    totals = data["totals"]
    assert totals["children_in_custody"] == 3
    assert totals["time_in_custody_minutes"] == {"median": 90, "p90": 90, "max": 90}
    assert totals["children_held_overnight"] == 2
    text = digest(store, capsys, "2026-03-29", "2026-03-29T07:00:00Z", "text")
    assert "(23 hours: the clocks went forward)" in flat(text)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["11/06/2026", "2026-02-30", "20260611", ""])
def test_a_bad_date_is_one_line_and_exit_2(
    store: Store, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code, _out, err = run(store, capsys, "digest", "--date", bad)
    assert code == 2
    assert err.count("\n") == 1 and "--date" in err


def test_send_and_print_together_is_a_usage_error(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(store, capsys, "digest", "--date", DAY, "--send", "--print")
    assert code == 2 and err.count("\n") == 1


# -- --send ----------------------------------------------------------------------------------


def test_send_builds_the_day_again_and_sends_it_now(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    scripted_day(store)
    code, out, err = run(store, capsys, "digest", "--date", DAY, "--send", "--now", NOW)
    assert code == 0, err
    # The only channel is the console: it prints the message, then the command says so.
    assert "Subject: Custody digest 2026-06-11: 8 children in custody" in out
    assert "Daily custody digest for Thursday 11 June 2026" in out
    assert out.rstrip().endswith(
        "digest 2026-06-11 sent to supt-b by console (supt.b@example.police.uk)"
    )
    code, out, err = run(
        store, capsys, "digest", "--date", DAY, "--send", "--now", NOW, "--format", "json"
    )
    result = json.loads(out[out.index('{\n "date"') :])
    assert result["sent"] == [
        {"person": "supt-b", "channel": "console", "address": "supt.b@example.police.uk"}
    ]
    events = json.loads(run(store, capsys, "audit", "--format", "json")[1])["events"]
    assert [e["event"] for e in events].count("digest_resent") == 2


def test_send_without_recipients_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path, recipients=())
    code, _out, err = run(store, capsys, "digest", "--date", DAY, "--send")
    assert code == 2 and "digest.recipients" in err and err.count("\n") == 1


def test_handover_notes_of_the_window_are_listed_without_their_text(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from custody_watch.store.schema import AlertNoteRow

    from .support import t

    alert_id = add_alert(
        store,
        subject="detention:C-9",
        opened_at="2026-06-10T20:00:00Z",
        severity="high",
        custody_ref="C-9",
        suite="suite-a",
        ack_code="4821",
    )
    with store.sessions.begin() as session:
        for at, text in (
            ("2026-06-11T01:10:00Z", "Jane Smith's mother called; AA booked 03:30"),
            ("2026-06-11T06:10:00Z", "after the window"),  # 07:10 BST: the next digest's
        ):
            session.add(AlertNoteRow(alert_id=alert_id, at=t(at), author="insp-a", text=text))
    data = figures(store, capsys, DAY, NOW)
    assert data["alert_notes"] == [
        {
            "at": "2026-06-11T01:10:00Z",
            "author": "insp-a",
            "alert_id": alert_id,
            "custody_ref": "C-9",
            "suite": "suite-a",
            "ack_code": "4821",
        }
    ]
    for fmt in ("text", "html"):
        shown = digest(store, capsys, DAY, NOW, fmt)
        assert "handover notes" in shown.lower()
        assert "Thu 11 Jun 02:10 BST: insp-a on C-9 (suite-a, alert 4821)" in shown
        assert "Jane Smith" not in shown and "after the window" not in shown
