"""JSON text in and out, fast: orjson where it can, the standard library where it cannot.

A backfill decodes and encodes a JSON object per row, and orjson does each several times
faster than ``json``. It refuses some text that ``json`` reads (NaN, integers beyond 64 bits,
lone surrogates, very deep nesting); such text falls back to ``json``, so what a feed may say,
and every error message about it, stay the standard library's."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(text: str) -> Any:
    """As ``json.loads``; raises its errors."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(value: object) -> str:
    """Compact JSON text of ``value``; non-ASCII kept as it is."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits, say
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
