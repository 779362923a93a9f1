"""Reading JSON text fast: orjson where it reads exactly as ``json`` does, ``json`` elsewhere.

A backfill decodes a JSON object per row, and orjson does it several times faster. It is not
a drop-in: it refuses some text that ``json`` reads (NaN, lone surrogates, deep nesting) and
reads an integer beyond 64 bits as a float, silently. So text orjson refuses, and text in
which it found any float at all (custody records hold none, so this costs nothing), go to
``json``: what a feed may say, and every error message about it, stay the standard
library's."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(text: str) -> Any:
    """As ``json.loads``; raises its errors."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_float(value) else value


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
