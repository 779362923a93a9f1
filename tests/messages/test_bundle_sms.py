"""A bundled SMS: as many alerts as fit in two segments, each with its code, the rest
counted, and never an SMS that lists nothing."""

from __future__ import annotations

from custody_watch.messages.gsm import measure
from custody_watch.messages.render import BUNDLE_TAIL, SMS_SEGMENTS, fit_items

HEAD = "custody-watch: 3 alerts."


def test_alerts_that_fit_are_listed_whole_and_the_rest_counted_on_the_board() -> None:
    items = [f"HIGH suite-a C-{n} held 2h: no appropriate adult - ACK 10{n}{n}." for n in range(9)]
    text = fit_items(HEAD, items)
    assert measure(text).segments <= SMS_SEGMENTS
    assert "ACK 1000." in text and "ACK 1088." not in text
    shown = text.count(" - ACK ")
    assert f"+{9 - shown} more on the board." in text
    assert "email" not in text  # the person paged may have no email at all
    assert text.endswith(BUNDLE_TAIL)


def test_a_first_alert_too_long_for_the_sms_is_cut_and_keeps_its_code() -> None:
    long_detail = "evaluation failed (" + "rule child_detention_duration failed; " * 20 + ")"
    items = [
        f"HIGH custody record C-1 not fully evaluated: {long_detail} - ACK 1045.",
        "x - ACK 9.",
    ]
    text = fit_items(HEAD, items)
    assert measure(text).segments <= SMS_SEGMENTS
    assert "custody record C-1 not fully evaluated" in text
    assert "... - ACK 1045." in text
    assert "+1 more on the board." in text


def test_one_alert_that_fits_is_the_whole_message() -> None:
    text = fit_items("custody-watch: 1 alerts.", ["WARNING suite-a C-1: overnight - ACK 1234."])
    assert "ACK 1234." in text and "more" not in text
