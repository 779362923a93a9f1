"""A JSON feed over HTTP: ``GET url?since=<watermark>``, following ``next`` links.

A page is either a list of records or ``{"records": [...], "next": "<url or null>"}``. The
feed is expected to page in ``updated_at`` order, as a ``since`` API implies. Each page is
one batch; each record becomes a row exactly as a JSON Lines line would, so a record that is
not an object is quarantined the same way.

Failures: 401, 403, 404 and other client errors will not mend by themselves (wrong token,
wrong URL) and fail the poll as not transient. Connection errors, timeouts, 5xx, 408 and
429 are retried with exponential backoff and jitter (a 429's ``Retry-After`` is honoured),
``retries`` times, and then fail the poll as transient."""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from custody_watch.config.model import HttpJsonSource
from custody_watch.config.secrets import secret
from custody_watch.errors import ConfigError
from custody_watch.ingest.rows import jsonl_rows
from custody_watch.sources.base import Batch, PollResult, SeenKeys, Sleep, SourceError, SourceRow
from custody_watch.times import TimeValueError, parse_instant, utc_iso

DEFAULT_TOKEN_ENV = "CUSTODY_WATCH_HTTP_TOKEN"
MAX_PAGES = 100
RETRY_STATUSES = frozenset({408, 429})
# Retry-After longer than this is not slept through inside a poll: the poll fails as
# transient and the next scheduled poll tries again.
MAX_BACKOFF_S = 60.0


class _BadPage(Exception):
    """A response that is not a page of records."""


class HttpJsonFeed:
    """Polls one JSON endpoint."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        token_env: str = DEFAULT_TOKEN_ENV,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        sleep: Sleep = time.sleep,
        backoff: float = 1.0,
        max_pages: int = MAX_PAGES,
        naive_zone: ZoneInfo | None = None,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        try:
            self._url = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ConfigError(f"source {name!r}: url {url!r} cannot be used: {exc}") from None
        if self._url.scheme not in ("http", "https") or not self._url.host:
            raise ConfigError(f"source {name!r}: url {url!r} is not an http(s) address")
        self._token_env = token_env
        self._env = os.environ if env is None else env
        self._timeout = timeout
        self._retries = max(0, retries)
        self._sleep = sleep
        self._backoff = backoff
        self._max_pages = max_pages
        self._naive_zone = naive_zone
        self._jitter = jitter
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=True,  # httpx drops Authorization on a cross-origin redirect
            headers={"Accept": "application/json", "User-Agent": "custody-watch"},
        )

    @classmethod
    def from_settings(
        cls, settings: HttpJsonSource, *, env: Mapping[str, str], sleep: Sleep
    ) -> HttpJsonFeed:
        zone = ZoneInfo(settings.naive_timezone) if settings.naive_timezone else None
        return cls(
            settings.name,
            settings.url,
            token_env=settings.token_env,
            env=env,
            timeout=settings.timeout.total_seconds(),
            retries=settings.retries,
            sleep=sleep,
            naive_zone=zone,
        )

    def poll(self, watermark: str | None, seen: SeenKeys, now: datetime) -> PollResult:
        """1. GET the first page (with ``since`` once there is a watermark).
        2. Follow ``next`` links, at most ``max_pages`` pages in all.
        3. The new watermark is the latest ``updated_at`` read; a failed later page keeps
           the old one, so its records are asked for again next time."""
        headers = self._auth_headers()
        url = self._url.copy_set_param("since", watermark) if watermark else self._url
        latest = _Latest(watermark, self._naive_zone)
        batches: list[Batch] = []
        problems: list[str] = []
        visited: set[str] = set()
        current: httpx.URL | None = url
        pages = 0
        while current is not None and pages < self._max_pages:
            visited.add(str(current))
            try:
                records, following = self._page(current, headers)
            except SourceError as exc:
                if not pages or not exc.transient:
                    raise
                problems.append(f"{exc} (after {pages} page(s); the rest next poll)")
                return PollResult(batches=batches, watermark=watermark, problems=problems)
            rows = _rows(records)
            latest.update(rows)
            pages += 1
            if rows:
                batches.append(Batch(label=str(current), rows=rows))
            current = following
            if current is not None and str(current) in visited:
                problems.append(f"{self.name}: next link {current} leads back to a page read")
                current = None
        return PollResult(
            batches=batches,
            watermark=latest.watermark(now),
            problems=problems,
            more=current is not None,
        )

    def close(self) -> None:
        self._client.close()

    # Private API

    def _auth_headers(self) -> dict[str, str]:
        try:
            token = secret(self._token_env, self._env)
        except ConfigError as exc:
            raise SourceError(f"{self.name}: {exc}", transient=False) from None
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _page(self, url: httpx.URL, headers: dict[str, str]) -> tuple[list[Any], httpx.URL | None]:
        response = self._get(url, headers)
        try:
            body = response.json()
            records, next_link = _records(body)
        except (ValueError, _BadPage) as exc:
            reason = "not JSON" if isinstance(exc, ValueError) else str(exc)
            raise SourceError(f"{self.name}: {url}: {reason}") from None
        return records, response.url.join(next_link) if next_link else None

    def _get(self, url: httpx.URL, headers: dict[str, str]) -> httpx.Response:
        attempts = self._retries + 1
        for attempt in range(attempts):
            hint: float | None = None
            try:
                response = self._client.get(url, headers=headers)
            except httpx.TimeoutException:
                reason = f"no answer within {self._timeout:g}s"
            except httpx.TransportError as exc:
                reason = f"cannot connect ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status < 500 and status not in RETRY_STATUSES:
                    raise SourceError(_refusal(self.name, url, response), transient=False)
                reason = f"HTTP {status}"
                hint = _retry_after(response)
            if attempt + 1 == attempts:
                break
            delay = self._delay(attempt, hint)
            if delay > MAX_BACKOFF_S:
                reason += f" (asked to wait {delay:.0f}s)"
                break
            self._sleep(delay)
        raise SourceError(f"{self.name}: GET {url} failed after {attempt + 1} attempt(s): {reason}")

    def _delay(self, attempt: int, hint: float | None) -> float:
        """The server's Retry-After when it gave one; else exponential with equal jitter
        (half fixed, half random), so many clients restarting together spread out."""
        if hint is not None:
            return hint
        step = min(MAX_BACKOFF_S, self._backoff * 2.0**attempt)
        return step / 2 + step / 2 * self._jitter()


class _Latest:
    """The latest ``updated_at`` read, compared as instants, kept as the feed wrote it."""

    def __init__(self, watermark: str | None, naive_zone: ZoneInfo | None) -> None:
        self._zone = naive_zone
        self._previous = watermark
        self._text = watermark
        self._at = self._instant(watermark) if watermark else None
        self._dated = False
        self._records = 0

    def update(self, rows: list[SourceRow]) -> None:
        self._records += len(rows)
        for row in rows:
            value = row.values.get("updated_at")
            if not isinstance(value, str) or (at := self._instant(value)) is None:
                continue
            self._dated = True
            if self._at is None or at > self._at:
                self._at, self._text = at, value

    def watermark(self, now: datetime) -> str | None:
        if self._dated:
            return self._text
        if self._records:
            # Records without a usable updated_at: our clock is the best "since" left.
            return utc_iso(now)
        # Nothing at all: keep the old one, so nothing the feed commits late is skipped.
        return self._previous

    def _instant(self, text: str) -> datetime | None:
        try:
            return parse_instant(text, self._zone)
        except TimeValueError:
            return None


def _records(body: object) -> tuple[list[Any], str | None]:
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict) and isinstance(body.get("records"), list):
        next_link = body.get("next")
        if next_link is not None and not isinstance(next_link, str):
            raise _BadPage("'next' is neither a URL nor null")
        return body["records"], next_link or None
    raise _BadPage("expected a list of records or an object with a 'records' list")


def _rows(records: list[Any]) -> list[SourceRow]:
    """Records as JSON Lines rows, so every source quarantines a bad record alike."""
    return list(jsonl_rows("\n".join(json.dumps(r, ensure_ascii=False) for r in records)))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        until = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return None  # a date we cannot place against the server's clock: back off instead
    seconds = (until - sent).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _refusal(source: str, url: httpx.URL, response: httpx.Response) -> str:
    status = response.status_code
    why = {
        401: "the token was refused (check the variable named by token_env)",
        403: "the token is not allowed to read this feed",
        404: "no feed at this URL (check url)",
    }.get(status, "the request was refused")
    return f"{source}: GET {url}: HTTP {status}, {why}"
