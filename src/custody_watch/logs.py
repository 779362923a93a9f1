"""Log lines on standard error: readable ones for people, or one JSON object a line
(``[logging] format = "json"``) for journald and log shippers, which then need no parsing
rules for our wording and keep a traceback inside its record."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from custody_watch.config.model import LoggingSettings
from custody_watch.redact import redact_urls

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The fields every JSON line carries; python-json-logger adds any `extra=` given to a call
# and the traceback (`exc_info`) when there is one.
JSON_FIELDS = "{levelname}{name}{message}"


class _Handler(logging.StreamHandler[TextIO]):
    """Ours, so that configuring twice replaces it instead of printing every line twice.

    Without a stream it writes to whatever ``sys.stderr`` is at each record (as logging's
    own last-resort handler does), not to the one it was made with, which a caller
    (pytest's capture, a redirection) may have closed since."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._fixed = stream
        super().__init__(stream)

    @property
    def stream(self) -> TextIO:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        # StreamHandler.__init__ stores sys.stderr here when given no stream: keep following.
        if value is not sys.stderr:
            self._fixed = value

    def format(self, record: logging.LogRecord) -> str:
        # A traceback or a library's message may quote a URL with its credentials or an
        # ?api_key=: every line keeps the scheme, host and path only.
        return redact_urls(super().format(record))


# Libraries whose INFO lines bury ours: APScheduler says "Running job ... executed
# successfully" four times a tick (1,162 lines in 120 s), Alembic names every migration at
# each start, the Twilio SDK every request's and response's headers. Their warnings still
# show; with -v (or level debug) everything does.
CHATTY = ("apscheduler", "alembic", "twilio")


class RepeatedSkips(logging.Filter):
    """APScheduler warns at every tick that a job still running was skipped: a first poll
    that reads for ten minutes printed 300 such lines, burying everything else. The first
    for a job shows, then at most one a minute; the daemon logs the overrun itself when the
    job ends (and /healthz shows it while it lasts)."""

    MARK = "skipped: maximum number of running instances reached"

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every = every
        self.clock = clock
        self._shown: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("apscheduler"):
            return True
        message = record.getMessage()
        if self.MARK not in message:
            return True
        # 'Execution of job "run_poll (trigger: ..., next run at: ...)" skipped: ...'
        job = message.partition('job "')[2].partition(" ")[0] or message
        now = self.clock()
        last = self._shown.get(job)
        if last is not None and now - last < self.every:
            return False
        self._shown[job] = now
        return True


def configure_logging(
    settings: LoggingSettings | None = None,
    stream: TextIO | None = None,
    *,
    verbose: bool = False,
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
    if not verbose:
        handler.addFilter(RepeatedSkips())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else settings.level.upper())
    noisy = logging.DEBUG if verbose or settings.level == "debug" else logging.WARNING
    for name in CHATTY:
        logging.getLogger(name).setLevel(noisy)
    return handler


@contextmanager
def logging_for(
    settings: LoggingSettings | None = None,
    stream: TextIO | None = None,
    *,
    verbose: bool = False,
) -> Iterator[logging.Handler]:
    """``configure_logging`` for the length of a command: the root logger's handlers and
    level are put back afterwards, so a command run in-process (tests, a script calling
    ``main``) leaves no handler printing into the next one's output."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY}
    try:
        yield configure_logging(settings, stream, verbose=verbose)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in chatty.items():
            logging.getLogger(name).setLevel(old)
