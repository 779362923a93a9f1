"""Addresses in error text, made safe to show and keep.

A source's error often quotes its URL, and URLs carry secrets (``user:password@``, an
``?api_key=``). The error is stored (``sources``, the audit log), shown on ``/healthz`` and
logged; what is kept is the scheme, host and path, so a person can still tell which feed
failed."""

from __future__ import annotations

import re

# scheme://[userinfo@]host[/path][?query][#fragment], up to the next blank or quote.
_URL = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)"
    r"(?P<userinfo>[^\s/@'\"<>]*@)?"
    r"(?P<host>[^\s/?#'\"<>]*)"
    r"(?P<path>[^\s?#'\"<>]*)"
    r"(?P<query>\?[^\s#'\"<>]*)?"
    r"(?P<fragment>#[^\s'\"<>]*)?"
)


def redact_urls(text: str) -> str:
    """``text`` with every URL's credentials, query and fragment replaced by ``…``."""

    def safe(match: re.Match[str]) -> str:
        userinfo = "…@" if match["userinfo"] else ""
        query = "?…" if match["query"] else ""
        return f"{match['scheme']}{userinfo}{match['host']}{match['path']}{query}"

    return _URL.sub(safe, text)
