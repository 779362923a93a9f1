"""The protocol every channel implements, and the error that says whether a retry can help.

Channels only deliver. They do not decide who to tell, render templates, retry or fall back:
``dispatch`` does that from the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from custody_watch.errors import CustodyWatchError

AddressKind = Literal["phone", "email", "any"]

# A provider's final statuses for a message that never reached the phone (Twilio's names),
# reported after the send was accepted: the message failed after all.
NOT_DELIVERED = frozenset({"failed", "undelivered"})


def address_for(kind: str, *, phone: str | None, email: str | None, name: str) -> str | None:
    """A person's address for a channel that needs ``kind``: a phone or an email, or for a
    channel that takes anything (the console) the email, else the phone, else their name.
    The one rule for pages (``alerts.deps.Person``) and digests (config's people) alike."""
    if kind == "phone":
        return phone
    if kind == "email":
        return email
    return email or phone or name


class DeliveryError(CustodyWatchError):
    """A message was not accepted for delivery.

    ``permanent`` means the same message to the same address will fail again (a bad number,
    an opted-out recipient, bad credentials): do not retry, fall back. ``code`` is the
    provider's code (e.g. Twilio 21211) when there is one; ``retry_after`` is the provider's
    hint in seconds (HTTP 429)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class InlineImage:
    """A PNG shown inside a message's HTML, which refers to it as ``<img src="cid:{cid}">``.

    Channels that cannot show images ignore them; the text part must stand on its own."""

    cid: str
    png: bytes
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered message to one address."""

    to: str
    text: str
    subject: str = ""
    html: str | None = None
    # Where the provider should report delivery status (Twilio StatusCallback), if anywhere.
    status_callback: str | None = None
    # The outbox row this message comes from, for logs and providers that echo it back.
    reference: str = ""
    # Pictures for the HTML part (the daily digest's charts), in the order they appear.
    images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True, slots=True)
class Receipt:
    """The provider accepted the message. ``provider_id`` is e.g. Twilio's MessageSid."""

    provider_id: str | None
    status: str = "sent"


class Channel(Protocol):
    name: str
    address_kind: AddressKind

    def send(self, message: Message) -> Receipt:
        """Deliver or raise ``DeliveryError``."""
        ...
