"""Reading JSON text fast: orjson where it reads exactly as ``json`` does, ``json`` elsewhere.

A backfill decodes a JSON object per row, and orjson does it several times faster. It is not
a drop-in: it refuses some text that ``json`` reads (lone surrogates, deep nesting) and
reads an integer beyond 64 bits as a float, silently. So text orjson refuses, and text in
which it found any float at all (custody records hold none, so this costs nothing), go to
``json``: what a feed may say, and every error message about it, stay the standard
library's. Three things are stricter than ``json``, because a feed is hostile until read:

- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259) and are refused;
- an integer of more digits than any field could need is kept as its digits
  (``HugeInt``), never converted: ``int()`` of thousands of digits raises (Python's
  max-str-digits limit) and costs quadratic time;
- a key given twice in one object raises ``DuplicateKey``: which of the two values a reader
  takes is not defined, so a record that says two things is refused rather than guessed."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Longer than any whole number a record holds (5760 has four digits; a numeric custody_ref
# sixty-four), so a number this long is never a value, only a thing to refuse by name.
MAX_INT_DIGITS = 80
# A key in JSON text: a string followed by a colon. Counting them finds an object that
# names a key twice without a slower decode of every row (see _may_repeat_keys).
_KEY = re.compile(r'"(?:[^"\\]|\\.)*"\s*:')


class HugeInt(str):
    """A JSON integer too long to be any field's value, kept as its digits."""

    __slots__ = ()


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} given twice")
        self.key = key


def loads(text: str) -> Any:
    """As ``json.loads``, stricter as above; raises ``ValueError`` (``DuplicateKey`` among
    them) or ``RecursionError``."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value, keys = _loads(text), None
    else:
        keys, has_float = _shape(value)
        if has_float:
            value, keys = _loads(text), None
    if type(value) is dict and '"' in text:
        if keys is None:
            keys = _shape(value)[0]
        if _keys_in_text(text) > keys:  # more keys written than kept: perhaps a repeat
            exact = _loads(text, pairs=True)
            # Only a record's own keys matter: an object nested in a field is refused anyway
            # (a field holds text or a list of text), by that field's name.
            if isinstance(exact, _Repeated):
                raise DuplicateKey(exact.repeated)
    return value


def _loads(text: str, *, pairs: bool = False) -> Any:
    return json.loads(
        text,
        parse_int=_integer,
        parse_constant=_refuse_constant,
        object_pairs_hook=_unique if pairs else None,
    )


def _integer(digits: str) -> int | HugeInt:
    return HugeInt(digits) if len(digits.lstrip("-")) > MAX_INT_DIGITS else int(digits)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class _Repeated(dict[str, Any]):
    """An object that named a key twice (``repeated``, the first such)."""

    repeated = ""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            marked = _Repeated(pairs)
            marked.repeated = key.strip()
            return marked
        value[key] = item
    return value


# JSON's white space after a closing quote: a key may have it before its colon.
_SPACE_AFTER_QUOTE = ('" ', '"\t', '"\n', '"\r')


def _keys_in_text(text: str) -> int:
    """How many keys ``text`` writes, or more: a value that holds an escaped quote and a
    colon over-counts, which only costs the exact check; it never under-counts, so a repeat
    is never missed. Where no quote is followed by white space (every line ``json.dumps``
    or a feed's exporter writes), each key's closing quote meets its colon directly and
    counting ``":`` is exact enough, many times faster than the pattern."""
    if any(space in text for space in _SPACE_AFTER_QUOTE):
        return len(_KEY.findall(text))
    return text.count('":')


def _shape(value: object) -> tuple[int, bool]:
    """The keys of every object in ``value`` (nested ones too), and whether it holds a
    float anywhere. One pass, a loop rather than recursion: this runs once per row of a
    backfill, whose rows are flat objects of text and lists of text."""
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            count += len(item)  # type: ignore[arg-type]
            for inner in item.values():  # type: ignore[attr-defined]
                inner_kind = type(inner)
                if inner_kind is str or inner is None:
                    continue
                if inner_kind is float:
                    return count, True
                if inner_kind is dict or inner_kind is list:
                    pending.append(inner)
        elif kind is list:
            pending.extend(item)  # type: ignore[arg-type]
        elif kind is float:
            return count, True
    return count, False
