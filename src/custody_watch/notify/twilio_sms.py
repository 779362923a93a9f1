"""SMS through Twilio's Messages API, with Twilio's answers sorted into retry or give up."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from custody_watch.config.model import TwilioChannel
from custody_watch.notify.base import AddressKind, DeliveryError, Message, Receipt

DEFAULT_API_BASE_URL = "https://api.twilio.com"

# Twilio error codes worth a sentence of their own (twilio.com/docs/api/errors/<code>).
_EXPLAINED = {
    20003: "authentication failed: check the account SID and CUSTODY_WATCH_TWILIO_AUTH_TOKEN",
    20429: "too many concurrent requests",
    21211: "the 'To' number is not a valid phone number",
    21608: "trial account: the 'To' number is not verified",
    21610: "the recipient has opted out by texting STOP (texting START undoes it)",
    21614: "the 'To' number cannot receive SMS",
}


class TwilioSms:
    address_kind: AddressKind = "phone"

    def __init__(self, name: str, settings: TwilioChannel, auth_token: str) -> None:
        self.name = name
        self._from = settings.from_number
        # The SDK raises on an HTTP error without the response headers, so a response hook
        # keeps Retry-After per thread for the 429 case.
        self._last = threading.local()
        http_client = TwilioHttpClient(
            timeout=settings.timeout.total_seconds(),
            request_hooks={"response": [self._remember_response]},
        )
        self._client = Client(settings.account_sid, auth_token, http_client=http_client)
        # The SDK also reads TWILIO_EDGE and TWILIO_REGION from os.environ and rewrites the
        # host from them. The config file is the one place that says where SMS go.
        self._client.edge = None
        self._client.region = None
        if settings.api_base_url.rstrip("/") != DEFAULT_API_BASE_URL:
            # Domain.base_url is a plain attribute in twilio 9.x (tests/notify pins this).
            self._client.api.base_url = settings.api_base_url.rstrip("/")

    def send(self, message: Message) -> Receipt:
        self._last.retry_after = None
        extra: dict[str, str] = {}
        if message.status_callback:
            extra["status_callback"] = message.status_callback
        try:
            created = self._client.api.v2010.account.messages.create(
                to=message.to, from_=self._from, body=message.text, **extra
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._refused(message, exc) from exc
        except requests.Timeout as exc:
            # Twilio may have queued the SMS before the answer was lost. Retrying risks a
            # duplicate, which is better than a missed alert.
            raise DeliveryError(
                f"{self.name}: Twilio did not answer in time: {exc}", permanent=False
            ) from exc
        except requests.RequestException as exc:
            raise DeliveryError(
                f"{self.name}: cannot reach Twilio: {exc}", permanent=False
            ) from exc
        except ValueError as exc:
            # A 2xx answer that is not Twilio's JSON: a proxy page, say. The SMS may or may
            # not have gone; treat it like a lost answer.
            raise DeliveryError(
                f"{self.name}: unreadable answer from Twilio: {exc}", permanent=False
            ) from exc
        return Receipt(provider_id=str(created.sid), status=str(created.status))

    def _refused(
        self, message: Message, exc: TwilioRestException | TwilioServiceException
    ) -> DeliveryError:
        status = int(exc.status)
        # Without a Twilio code in the body the SDK reports the HTTP status as the code.
        code = int(exc.code) if exc.code is not None and exc.code != status else None
        detail = _EXPLAINED.get(code or 0) or _detail(exc)
        text = f"{self.name}: Twilio refused the SMS to {message.to}: {detail}"
        text += f" (code {code}, HTTP {status})" if code else f" (HTTP {status})"
        code_text = str(code) if code else None
        if code == 20429 or status == 429:
            retry_after = getattr(self._last, "retry_after", None)
            return DeliveryError(text, permanent=False, code=code_text, retry_after=retry_after)
        # 5xx: Twilio's side failed; 4xx: this request, number or account is wrong and will
        # be refused again, so the caller should fall back rather than retry.
        return DeliveryError(text, permanent=status < 500, code=code_text)

    def _remember_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self._last.retry_after = parse_retry_after(response.headers.get("Retry-After"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header. The HTTP-date form is ignored: Twilio sends
    seconds, and a date would have to be trusted against the local clock."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def check_api_base_url(url: str) -> str | None:
    """Why ``url`` cannot be used as Twilio's API address, or None when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) URL: {url!r}"
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"give only scheme, host and port (the SDK adds the path): {url!r}"
    return None


def _detail(exc: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(exc, TwilioServiceException):
        return str(exc.detail or exc.title)
    # The SDK prefixes Twilio's own message with "Unable to create record: ".
    return str(exc.msg).split(": ", 1)[-1] or "no reason given"
