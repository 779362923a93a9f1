"""A local stand-in for Twilio's Messages API, for the real twilio SDK to talk HTTP to.

    with FakeTwilio() as twilio:
        settings = TwilioChannel.model_validate(twilio.config())   # api_base_url -> here
        ...send...
        assert twilio.messages[0].body == "..."
        twilio.send_status_callback(twilio.messages[0].sid, "delivered")

It checks HTTP basic auth, validates the form as Twilio does for the common mistakes, and
answers with Twilio's JSON. ``rate_limit_next``, ``fail_next``, ``reject_next`` and
``hang_next`` queue faults for the next requests. Status callbacks are signed with the auth
token exactly as Twilio signs them."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from custody_watch.messages.gsm import measure

ACCOUNT_SID = "AC" + "c0ffee00" * 4
AUTH_TOKEN = "5ec2e7" + "0" * 20 + "70ce11"
FROM_NUMBER = "+447700900000"
API_VERSION = "2010-04-01"

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MESSAGES = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages(?:/(SM[0-9a-f]{32}))?\.json")
# Longest a hung request waits: a bound, so a test that forgets the client timeout still ends.
_MAX_HANG = 10.0

# Twilio's HTTP status and message for the error codes tests ask for (twilio.com/docs/errors).
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21212: (400, "The 'From' number {from_} is not a valid phone number."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21608: (
        400,
        "The number {to} is unverified. Trial accounts cannot send messages to "
        "unverified numbers; verify {to} at twilio.com/user/account/phone-numbers/verified.",
    ),
    21609: (400, "Invalid StatusCallback url"),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}


@dataclass(frozen=True, slots=True)
class SentSms:
    """A message the fake accepted, as Twilio would hold it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    num_segments: int
    date_created: datetime
    status: str = "queued"

    def resource(self) -> dict[str, Any]:
        """The message's JSON, as the Messages API returns it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        created = format_datetime(self.date_created, usegmt=True)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int
    code: int
    retry_after: float | None = None
    hang: float = 0.0
    then_accept: bool = False


class FakeTwilio:
    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        from_number: str = FROM_NUMBER,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self._lock = threading.Lock()
        self._messages: list[SentSms] = []
        self._faults: deque[_Fault] = deque()
        self._requests = 0
        self._hanging = 0
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> FakeTwilio:
        self._thread = threading.Thread(
            # A short poll interval makes close() quick; the default costs half a second.
            target=self._server.serve_forever,
            args=(0.02,),
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # releases hung requests
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # What tests read

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def config(self, **overrides: str) -> dict[str, str]:
        """A ``[channels.NAME]`` table for a Twilio channel aimed at this fake."""
        table = {
            "kind": "twilio",
            "account_sid": self.account_sid,
            "from_number": self.from_number,
            "api_base_url": self.url,
        }
        return table | overrides

    def env(self) -> dict[str, str]:
        return {"CUSTODY_WATCH_TWILIO_AUTH_TOKEN": self.auth_token}

    @property
    def messages(self) -> list[SentSms]:
        with self._lock:
            return list(self._messages)

    @property
    def request_count(self) -> int:
        """Every request answered or hung, faults and refusals included."""
        with self._lock:
            return self._requests

    @property
    def hanging(self) -> int:
        """Requests being held unanswered at this moment (by ``hang_next``)."""
        with self._lock:
            return self._hanging

    # Faults for the next requests, served in the order they were queued

    def rate_limit_next(self, times: int = 1, retry_after: float = 1) -> None:
        self._queue(times, _fault(20429, retry_after=retry_after))

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        """Answer with a server error: 500 (Twilio code 20500) or 503 (20503)."""
        self._queue(times, _fault(20000 + status))

    def reject_next(self, code: int, times: int = 1) -> None:
        """Answer with Twilio error ``code`` (one of ``ERRORS``) however good the request."""
        self._queue(times, _fault(code))

    def hang_next(self, times: int = 1, seconds: float = 3.0, then_accept: bool = False) -> None:
        """Answer nothing for ``seconds`` (at most 10), then drop the connection; or, with
        ``then_accept``, accept the message late, as Twilio does when only the answer is lost."""
        hang = min(seconds, _MAX_HANG)
        self._queue(times, _Fault(0, 0, hang=hang, then_accept=then_accept))

    def clear_faults(self) -> None:
        """Drop the faults still queued: the next requests are answered normally."""
        with self._lock:
            self._faults.clear()

    def _queue(self, times: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    # Status callbacks

    def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        url: str | None = None,
        auth_token: str | None = None,
    ) -> int:
        """POST Twilio's status callback for message ``sid``, signed with the auth token (or
        ``auth_token``, to test a bad signature), to its StatusCallback or ``url``. Returns
        the HTTP status of the answer."""
        message = self.set_status(sid, status)
        target = url or message.status_callback
        if not target:
            raise ValueError(f"message {sid} has no StatusCallback; pass url=")
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        if status in ("delivered", "undelivered"):
            params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
        return post_signed(target, params, auth_token or self.auth_token)

    def set_status(self, sid: str, status: str) -> SentSms:
        """Move message ``sid`` to ``status`` without telling anyone (see send_status_callback)."""
        with self._lock:
            for i, message in enumerate(self._messages):
                if message.sid == sid:
                    self._messages[i] = replace(message, status=status)
                    return self._messages[i]
        raise KeyError(f"no message {sid}")

    # The server side, called from handler threads

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            self._requests += 1
            return self._faults.popleft() if self._faults else None

    def _accept(self, account_sid: str, form: dict[str, str]) -> SentSms:
        body = form["Body"]
        message = SentSms(
            sid="SM" + secrets.token_hex(16),
            account_sid=account_sid,
            to=form["To"],
            from_=form["From"],
            body=body,
            status_callback=form.get("StatusCallback"),
            num_segments=measure(body).segments,
            date_created=datetime.now(UTC).replace(microsecond=0),
        )
        with self._lock:
            self._messages.append(message)
        return message

    def _find(self, sid: str) -> SentSms | None:
        with self._lock:
            return next((m for m in self._messages if m.sid == sid), None)


def post_signed(url: str, params: dict[str, str], auth_token: str) -> int:
    """POST ``params`` as a form to ``url`` with Twilio's X-Twilio-Signature."""
    signature = RequestValidator(auth_token).compute_signature(url, params)
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": signature,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _problem(form: dict[str, str]) -> int | None:
    """The Twilio error code for the first thing wrong with a create request, if any."""
    to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
    callback = form.get("StatusCallback")
    checks = (
        (not to, 21604),
        (not _E164.fullmatch(to), 21211),
        (not from_, 21603),
        (not _E164.fullmatch(from_), 21212),
        (not body, 21602),
        (len(body) > 1600, 21617),
        (callback is not None and urlsplit(callback).scheme not in ("http", "https"), 21609),
    )
    return next((code for failed, code in checks if failed), None)


def _fault(code: int, retry_after: float | None = None) -> _Fault:
    return _Fault(ERRORS[code][0], code, retry_after=retry_after)


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTwilio

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        fault = self.owner._next_fault()
        if fault is not None and fault.hang:
            with self.owner._lock:
                self.owner._hanging += 1
            try:
                released = self.owner._closing.wait(fault.hang)
            finally:
                with self.owner._lock:
                    self.owner._hanging -= 1
            if released or not fault.then_accept:
                self.close_connection = True
                return
        elif fault is not None:
            self._error(fault.code, form, status=fault.status, retry_after=fault.retry_after)
            return
        match = _MESSAGES.fullmatch(urlsplit(self.path).path)
        if match is None or (method == "GET") != bool(match.group(2)):
            self._error(20404)
        elif not self._authorised(match.group(1)):
            self._error(20003)
        elif method == "GET":
            found = self.owner._find(match.group(2))
            if found is None or found.account_sid != match.group(1):
                self._error(20404)
            else:
                self._json(200, found.resource())
        else:
            self._create(match.group(1), form)

    def _authorised(self, account_sid: str) -> bool:
        scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        owner = self.owner
        return user == owner.account_sid == account_sid and secrets.compare_digest(
            password, owner.auth_token
        )

    def _create(self, account_sid: str, form: dict[str, str]) -> None:
        problem = _problem(form)
        if problem is not None:
            self._error(problem, form)
            return
        self._json(201, self.owner._accept(account_sid, form).resource())

    def _error(
        self,
        code: int,
        form: dict[str, str] | None = None,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        form = form or {}
        default_status, template = ERRORS[code]
        status = status or default_status
        body = {
            "code": code,
            "message": template.format(to=form.get("To", ""), from_=form.get("From", "")),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        self._json(status, body, headers)

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
