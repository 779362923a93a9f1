"""Email through an SMTP relay, with the relay's answers sorted into retry or give up."""

from __future__ import annotations

import smtplib
import ssl
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from custody_watch.config.model import SmtpChannel
from custody_watch.notify.base import AddressKind, DeliveryError, Message, Receipt


class SmtpEmail:
    address_kind: AddressKind = "email"

    def __init__(
        self,
        name: str,
        settings: SmtpChannel,
        *,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context`` replaces the system's certificate checks (tests trust a
        self-signed certificate with it); it never turns verification off by itself."""
        self.name = name
        self._settings = settings
        self._login = (username, password or "") if username else None
        self._ssl_context = ssl_context

    def send(self, message: Message) -> Receipt:
        try:
            email = compose(message, self._settings.from_address)
        except ValueError as exc:
            raise DeliveryError(
                f"{self.name}: cannot write an email to {message.to!r}: {exc}", permanent=True
            ) from exc
        try:
            smtp = self._connect()
            try:
                smtp.send_message(email)
            finally:
                _quit(smtp)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._failed(message.to, exc) from exc
        return Receipt(provider_id=str(email["Message-ID"]), status="sent")

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        timeout = settings.timeout.total_seconds()
        context = self._ssl_context or ssl.create_default_context()
        if settings.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        try:
            if settings.starttls and not settings.tls:
                # Raises SMTPNotSupportedError when the server does not offer it: never fall
                # back to sending the password and the alert in clear.
                smtp.starttls(context=context)
            if self._login:
                smtp.login(*self._login)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _failed(self, to: str, exc: OSError | smtplib.SMTPException) -> DeliveryError:
        where = f"{self.name}: {self._settings.host}:{self._settings.port}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, reply = next(iter(exc.recipients.values()), (550, b""))
            return _by_code(f"{where} refused {to}", code, reply)
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            # 535 means wrong credentials; 454 is a temporary failure worth another try.
            return _by_code(f"{where} refused the login", exc.smtp_code, exc.smtp_error)
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return DeliveryError(f"{where} closed the connection: {exc}", permanent=False)
        if isinstance(exc, smtplib.SMTPResponseException):
            return _by_code(f"{where} refused the message", exc.smtp_code, exc.smtp_error)
        if isinstance(exc, smtplib.SMTPException):
            # No STARTTLS or AUTH on offer, no usable AUTH mechanism: a settings mismatch
            # that the next attempt would meet again.
            return DeliveryError(f"{where}: {exc}", permanent=True)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryError(f"{where}: certificate not trusted: {exc}", permanent=True)
        # Refused or reset connections, timeouts, DNS failures, TLS hiccups.
        reason = exc.strerror or str(exc) or type(exc).__name__
        return DeliveryError(f"{where}: cannot deliver: {reason}", permanent=False)


def compose(message: Message, from_address: str) -> EmailMessage:
    """The MIME message: text, then HTML with its inline images, as alternatives."""
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = _address(message.to)
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = make_msgid("custody-watch", domain=from_address.rpartition("@")[2])
    if message.reference:
        email["X-Custody-Watch-Ref"] = message.reference
    email.set_content(message.text)
    if message.html is None:
        # No HTML to place them in: attach the pictures rather than drop them.
        for image in message.images:
            email.add_attachment(image.png, "image", "png", filename=f"{image.cid}.png")
        return email
    email.add_alternative(message.html, subtype="html")
    html_part = email.get_body(preferencelist=("html",))
    assert html_part is not None  # add_alternative has just made it
    for image in message.images:
        html_part.add_related(
            image.png,
            "image",
            "png",
            cid=f"<{image.cid}>",
            disposition="inline",
            filename=f"{image.cid}.png",
            headers=[f"Content-Description: {' '.join(image.alt.split())}"] if image.alt else (),
        )
    return email


def _quit(smtp: smtplib.SMTP) -> None:
    # Once the server has taken the message it is sent; a failed goodbye (which
    # ``with smtplib.SMTP(...)`` would raise) must not turn that into an error and a resend.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _address(to: str) -> str:
    try:
        return str(Address(addr_spec=to))
    except (ValueError, IndexError, HeaderParseError) as exc:
        # IndexError: the stdlib parser trips over some malformed input such as "a@".
        raise ValueError(f"not an email address ({exc or 'incomplete'})") from None


def _by_code(what: str, code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    # 5xx replies are final ("no such mailbox", "relay denied"); 4xx ask the sender to retry.
    return DeliveryError(f"{what}: {code} {text}".rstrip(), permanent=code >= 500, code=str(code))
