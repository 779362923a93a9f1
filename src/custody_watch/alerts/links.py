"""Signed acknowledgement links that expire.

The token is the credential: it names the alert and the person it was sent to, and carries
its own expiry, checked against the same clock as everything else (``[web] ack_link_ttl``,
default 24h). Signing uses itsdangerous with a purpose-specific salt, so a token made for
this cannot be replayed as anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "custody-watch.ack-link.v1"


class InvalidLink(Exception):
    """The link is forged, damaged or expired; the message says which, for the page."""


@dataclass(frozen=True, slots=True)
class AckLink:
    alert_id: int
    person_id: str
    expires_at: datetime


class AckLinks:
    def __init__(self, key: str, base_url: str, ttl: timedelta) -> None:
        self._signer = URLSafeSerializer(key, salt=SALT)
        self._base = base_url.rstrip("/")
        self._ttl = ttl

    def token(self, alert_id: int, person_id: str, now: datetime) -> str:
        expires = int((now + self._ttl).timestamp())
        return str(self._signer.dumps({"a": alert_id, "p": person_id, "e": expires}))

    def url(self, alert_id: int, person_id: str, now: datetime) -> str:
        return f"{self._base}/ack/{self.token(alert_id, person_id, now)}"

    def read(self, token: str, now: datetime) -> AckLink:
        try:
            data = self._signer.loads(token)
        except BadSignature:
            raise InvalidLink("this acknowledgement link is not valid") from None
        if not isinstance(data, dict) or not {"a", "p", "e"} <= data.keys():
            raise InvalidLink("this acknowledgement link is not valid")
        expires = datetime.fromtimestamp(int(data["e"]), UTC)
        if now >= expires:
            raise InvalidLink("this acknowledgement link has expired; use the SMS code instead")
        return AckLink(int(data["a"]), str(data["p"]), expires)
