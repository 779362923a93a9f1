"""A local SMTP server (aiosmtpd) that keeps what it receives.

    with FakeSmtp(credentials=("user", "pass")) as smtp:
        settings = SmtpChannel.model_validate(smtp.config())
        ...send...
        mail = smtp.mails[0].message          # an email.message.EmailMessage

Options: ``credentials`` requires AUTH; ``starttls`` (a server SSL context) offers STARTTLS
and refuses mail without it; ``implicit_tls`` speaks TLS from the first byte (port 465 style);
``refuse_recipient`` answers RCPT for an address with 550 (or another code);
``answer_quit_with`` spoils the goodbye after a message was taken."""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

FROM_ADDRESS = "custody-watch@example.police.uk"

_REPLIES = {
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary local problem, try again later",
    550: "550 5.1.1 No such mailbox here",
    551: "551 5.1.6 User not local",
    552: "552 5.2.2 Mailbox full",
    553: "553 5.1.3 Mailbox name not allowed",
}


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    # The name the client logged in as, and whether the session was encrypted.
    login: str | None
    tls: bool

    @property
    def message(self) -> EmailMessage:
        # SMTP carries CRLF line ends; the parsed parts should read as Python text does.
        data = self.data.replace(b"\r\n", b"\n")
        parsed = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)
        return parsed


class FakeSmtp:
    def __init__(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.credentials = credentials
        self._starttls = starttls is not None
        self._implicit_tls = implicit_tls is not None
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self._refusals: dict[str, int] = {}
        self._quit_reply: str | None = None
        self._controller = _Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=0,
            ssl_context=implicit_tls,
            server_hostname="fake-smtp.test",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=self._authenticate if credentials else None,
            # Login is enforced at MAIL (see _Handler) rather than with auth_required, which
            # warns on every connection when AUTH in clear is allowed, as it is here so that
            # login can be tested without TLS.
            auth_require_tls=starttls is not None,
        )

    def start(self) -> FakeSmtp:
        self._controller.start()
        return self

    def close(self) -> None:
        self._controller.stop()

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A ``[channels.NAME]`` table for an SMTP channel aimed at this server."""
        table: dict[str, Any] = {
            "kind": "smtp",
            "host": self.host,
            "port": self.port,
            "starttls": self._starttls,
            "tls": self._implicit_tls,
            "from_address": FROM_ADDRESS,
        }
        return table | overrides

    def env(self) -> dict[str, str]:
        if self.credentials is None:
            return {}
        username, password = self.credentials
        return {"CUSTODY_WATCH_SMTP_USERNAME": username, "CUSTODY_WATCH_SMTP_PASSWORD": password}

    @property
    def mails(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mails)

    def refuse_recipient(self, address: str, code: int = 550) -> None:
        """Answer RCPT TO for ``address`` with ``code`` (450, 451 or 550 to 553)."""
        with self._lock:
            self._refusals[address.lower()] = code

    def answer_quit_with(self, reply: str) -> None:
        """Answer QUIT with ``reply`` (e.g. "554 5.3.0 Oops") instead of "221 Bye"."""
        self._quit_reply = reply

    def _refusal(self, address: str) -> str | None:
        with self._lock:
            code = self._refusals.get(address.lower())
        return None if code is None else _REPLIES[code]

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._mails.append(mail)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.credentials == (
            data.login.decode(),
            data.password.decode(),
        )
        # handled=False: aiosmtpd then answers 535 itself (its default is to say nothing).
        return AuthResult(success=ok, handled=False, auth_data=data)


class _Controller(Controller):
    """Binds port 0 and learns the port the system chose: no race for a free port."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class _Handler:
    def __init__(self, owner: FakeSmtp) -> None:
        self._owner = owner

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self._owner.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self._owner._refusal(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self._owner._quit_reply or "221 Bye"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        auth = session.auth_data
        # Bytes as received: decode_data is off, so aiosmtpd keeps the raw message.
        data = envelope.original_content
        assert isinstance(data, bytes)
        self._owner._record(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=data,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                # Set after STARTTLS and with implicit TLS alike, unlike session.ssl.
                tls=server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 Message accepted for delivery"
