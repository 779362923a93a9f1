"""Strict configuration: TOML in, one frozen ``Settings`` out, or an error naming the key."""

from custody_watch.config.load import config_path, load_settings, parse_settings, read_settings
from custody_watch.config.model import Settings, rules_policy

__all__ = [
    "Settings",
    "config_path",
    "load_settings",
    "parse_settings",
    "read_settings",
    "rules_policy",
]
