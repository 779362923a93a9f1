"""JSON text read through orjson only where it reads exactly as the standard library does."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody_watch.ingest import jsontext
from custody_watch.ingest.prepare import record_json

# Finite floats and integers of up to 80 digits: the rest is refused or kept apart (below).
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**80) + 1, 10**80 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, database=None)
@given(JSON)
def test_any_json_text_reads_as_the_standard_library_reads_it(value: object) -> None:
    text = json.dumps(value)
    assert repr(jsontext.loads(text)) == repr(json.loads(text))


def test_an_integer_beyond_64_bits_stays_an_exact_integer() -> None:
    big = 123456789012345678901234567890
    assert jsontext.loads(f'{{"n": {big}}}') == {"n": big}
    assert jsontext.loads('{"n": -9223372036854775809}') == {"n": -9223372036854775809}


def test_text_orjson_refuses_is_read_as_the_standard_library_reads_it() -> None:
    assert jsontext.loads('"\\ud800"') == "\ud800"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal: str) -> None:
    with pytest.raises(ValueError, match=f"{literal} is not a JSON value"):
        jsontext.loads(f'{{"prior_detention_minutes": {literal}}}')


def test_an_integer_of_thousands_of_digits_is_kept_as_its_digits_without_conversion() -> None:
    digits = "7" * 5000  # int() of this raises: Python's limit is 4,300 digits
    value = jsontext.loads(f'{{"n": {digits}}}')["n"]
    assert isinstance(value, jsontext.HugeInt)
    assert value == digits


@pytest.mark.parametrize(
    "text",
    [
        '{"custody_ref": "C-1", "custody_ref": "C-2"}',
        '{"a": 1, "a" : 2}',
        '{"\\u0061": 1, "a": 2}',
    ],
)
def test_a_key_given_twice_in_one_object_is_refused(text: str) -> None:
    with pytest.raises(jsontext.DuplicateKey):
        jsontext.loads(text)


def test_a_key_repeated_inside_a_nested_object_is_not_the_record_s_own() -> None:
    assert jsontext.loads('{"x": {"k": 1, "k": 2}}') == {"x": {"k": 2}}


def test_a_value_that_looks_like_a_key_is_not_a_repeat() -> None:
    text = '{"a": "\\"a\\": 1", "b": "x"}'
    assert jsontext.loads(text) == {"a": '"a": 1', "b": "x"}


def test_an_error_is_the_standard_library_error() -> None:
    with pytest.raises(json.JSONDecodeError, match="Expecting value: line 1 column 1"):
        jsontext.loads("nope")


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.dictionaries(
        st.sampled_from(["custody_ref", "suite", "reviews", "prior_detention_minutes"]),
        st.text() | st.lists(st.text(), max_size=3) | st.integers() | st.integers().map(float),
    )
)
def test_a_record_is_written_as_json_that_reads_back_the_same(record: dict[str, object]) -> None:
    assert json.loads(record_json(record)) == record
