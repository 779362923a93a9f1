"""SMS length: GSM-7 and UCS-2 parts as phones count them, and trimming to two parts."""

from __future__ import annotations

import pytest

from custody_watch.messages.gsm import fit_sms, is_gsm7, measure, to_gsm7


@pytest.mark.parametrize(
    ("length", "segments"), [(0, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_it_counts_gsm7_parts_of_160_then_153(length: int, segments: int) -> None:
    size = measure("a" * length)
    assert (size.encoding, size.units, size.segments) == ("GSM-7", length, segments)


def test_extension_characters_cost_two_septets() -> None:
    assert measure("€" * 80) == measure("a" * 160)
    assert measure("[]{}" * 20 + "|").segments == 2


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 306 septets would fit two parts of 153, but the euro sign cannot straddle the boundary
    # after 152 septets, so the second part starts with it and the text needs a third.
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text).units == 306
    assert measure(text).segments == 3


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_one_non_gsm_character_makes_the_whole_text_ucs2(length: int, segments: int) -> None:
    size = measure("ł" + "a" * (length - 1))
    assert (size.encoding, size.segments) == ("UCS-2", segments)


def test_emoji_take_two_ucs2_units() -> None:
    assert measure("🚨" * 35) == measure("ł" * 70)
    assert measure("🚨" * 36).segments == 2


def test_it_knows_the_gsm7_alphabet() -> None:
    assert is_gsm7("Custody C-1: ack 4821 [suite-a] €5 @10:00 ÄÖÑÜ§¿\n")
    assert not is_gsm7("‘quoted’")
    assert not is_gsm7("tab\there")
    assert not is_gsm7("\x1b")


def test_it_replaces_typographic_punctuation_with_plain_text() -> None:
    assert to_gsm7("“Held” – 23h… it’s\u00a0late") == '"Held" - 23h... it\'s late'


def test_fit_sms_leaves_a_short_text_alone_but_for_punctuation() -> None:
    assert fit_sms("Child held 23h – ack 4821") == "Child held 23h - ack 4821"


def test_fit_sms_keeps_a_text_in_gsm7_rather_than_ucs2() -> None:
    text = "‘C-1’ held – " + "x" * 120
    assert measure(text).segments == 2  # as UCS-2: 133 units
    fitted = fit_sms(text, max_segments=1)
    assert fitted == "'C-1' held - " + "x" * 120
    assert measure(fitted) == measure("a" * 133)


def test_fit_sms_cuts_to_exactly_two_full_parts_with_an_ellipsis() -> None:
    fitted = fit_sms("a" * 400)
    assert fitted == "a" * 303 + "..."
    assert measure(fitted).segments == 2


def test_fit_sms_cuts_at_the_given_number_of_parts() -> None:
    assert fit_sms("a" * 400, max_segments=1) == "a" * 157 + "..."


def test_fit_sms_cuts_between_words() -> None:
    fitted = fit_sms("word " * 100, max_segments=1)
    assert fitted.endswith("word...")
    assert measure(fitted).segments == 1


def test_fit_sms_trims_a_ucs2_text_within_ucs2_limits() -> None:
    fitted = fit_sms("Łukasz " * 30)
    assert fitted.endswith("…")
    assert measure(fitted).encoding == "UCS-2"
    assert measure(fitted).segments == 2
    assert measure(fitted).units > 120  # it uses the room, not just one part


def test_fit_sms_needs_at_least_one_part() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fit_sms("hello", max_segments=0)
