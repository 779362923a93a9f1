"""The exception tree. Every error a user can cause derives from ``CustodyWatchError`` and
carries a one-line message that names the file, key, row or field at fault."""

from __future__ import annotations


class CustodyWatchError(Exception):
    """Base of every error custody-watch raises on purpose."""


class ConfigError(CustodyWatchError):
    """The configuration cannot be used; the message names the key."""


class InputError(CustodyWatchError):
    """A file or argument given by the user cannot be read."""
