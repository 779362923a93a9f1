"""Quoting a value inside an error message: at most 40 characters of it.

A rejected value is shown so a person can find it in the file, never copied whole: it may
be a whole field of personal data, or ten megabytes of junk. ``repr`` escapes control
characters and lone surrogates, so the message itself is always storable, printable text."""

from __future__ import annotations

QUOTED = 40  # the record contract's limit


def quote(text: str) -> str:
    """``text`` as a quoted literal, cut to its first 40 characters (marked with "...")."""
    if len(text) <= QUOTED:
        return repr(text)
    return f"{text[:QUOTED]!r}... ({len(text)} characters)"
