"""Log lines on standard error: readable ones for people, or one JSON object a line
(``[logging] format = "json"``) for journald and log shippers, which then need no parsing
rules for our wording and keep a traceback inside its record."""

from __future__ import annotations

import logging
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from custody_watch.config.model import LoggingSettings

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The fields every JSON line carries; python-json-logger adds any `extra=` given to a call
# and the traceback (`exc_info`) when there is one.
JSON_FIELDS = "{levelname}{name}{message}"


class _Handler(logging.StreamHandler[TextIO]):
    """Ours, so that configuring twice (tests, `run` after a command that logged) replaces
    it instead of printing every line twice."""


def configure_logging(
    settings: LoggingSettings | None = None, stream: TextIO | None = None
) -> logging.Handler:
    settings = settings or LoggingSettings()
    handler = _Handler(stream)  # None: sys.stderr
    if settings.format == "json":
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                # An ISO 8601 UTC instant under "time": what every shipper parses.
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(logging.Formatter(HUMAN_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level.upper())
    return handler
