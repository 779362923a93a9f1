"""From a source's settings to the object that polls it."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol

from custody_watch.config.model import Source as SourceSettings
from custody_watch.sources.base import Sleep, Source
from custody_watch.sources.folder import DropFolder
from custody_watch.sources.http_json import HttpJsonFeed
from custody_watch.sources.simulator import Simulator
from custody_watch.sources.sql import SqlTable


class _Buildable(Protocol):
    # ``Any``: each class takes only its own settings type. KINDS is keyed by the same
    # ``kind`` that selects that type in the config, so the pairing holds by construction.
    def from_settings(self, settings: Any, *, env: Mapping[str, str], sleep: Sleep) -> Source: ...


KINDS: Mapping[str, _Buildable] = MappingProxyType(
    {
        "csv_folder": DropFolder,
        "jsonl": DropFolder,
        "sql": SqlTable,
        "http_json": HttpJsonFeed,
        "simulator": Simulator,
    }
)


def build_source(
    settings: SourceSettings,
    *,
    env: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> Source:
    """The source for ``settings``. ``env`` holds secrets (the HTTP token); it defaults to
    the process environment. ``sleep`` is how sources wait (tests pass a recorder)."""
    return KINDS[settings.kind].from_settings(
        settings, env=os.environ if env is None else env, sleep=sleep
    )
