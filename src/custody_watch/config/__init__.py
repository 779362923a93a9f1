"""Strict configuration: TOML in, one frozen ``Settings`` out, or an error naming the key.

The names below are loaded on first use (PEP 562): building the pydantic models costs a
quarter of a second, which ``evaluate`` over a file with no config (the defaults, exactly
``rules.policy.Policy()``) need not pay. ``config.locate`` finds the file without them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from custody_watch.config.load import load_settings, parse_settings, read_settings
    from custody_watch.config.locate import config_path
    from custody_watch.config.model import Settings, rules_policy

_WHERE = {
    "Settings": "custody_watch.config.model",
    "rules_policy": "custody_watch.config.model",
    "config_path": "custody_watch.config.locate",
    "load_settings": "custody_watch.config.load",
    "parse_settings": "custody_watch.config.load",
    "read_settings": "custody_watch.config.load",
}

__all__ = [
    "Settings",
    "config_path",
    "load_settings",
    "parse_settings",
    "read_settings",
    "rules_policy",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # once: later lookups are plain module attributes
    return value
