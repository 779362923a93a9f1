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
        value = _loads(text)
    else:
        if _has_float(value):
            value = _loads(text)
    if _may_repeat_keys(text, value):
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


def _may_repeat_keys(text: str, value: object) -> bool:
    """Whether ``text`` holds more keys than ``value`` kept (a repeat is the only way to
    lose one). The pattern can over-count (a string value that ends in an escaped quote
    and a colon) but never under-counts, so a repeat is never missed; an over-count only
    costs the exact check."""
    if type(value) is not dict or '"' not in text:
        return False
    return len(_KEY.findall(text)) > _count_keys(value)


def _count_keys(value: object) -> int:
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            count += len(item)
            pending.extend(item.values())
        elif type(item) is list:
            pending.extend(item)
    return count


def _has_float(value: object) -> bool:
    # A loop, not recursion through generators: this runs once per row of a backfill.
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())  # type: ignore[attr-defined]
        elif kind is list:
            pending.extend(item)  # type: ignore[arg-type]
        elif kind is float:
            return True
    return False
