"""Signed acknowledgement links that expire.

The token is the credential: it names the alert, the person it was sent to and the alert's
escalation round (``alerts.ack_round``) it was sent in, and carries its own expiry, checked
against the same clock as everything else (``[web] ack_link_ttl``, default 24h). The round
makes a link die with the round it was sent for: an acknowledgement, an ack timeout, a
resolve or a re-raise each start a new round, so a link from the first round cannot silence
the paging that resumed after it (``web.ack_pages`` compares it with the alert's). Signing
uses itsdangerous with a purpose-specific salt, so a token made for this cannot be replayed
as anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

# v2: the payload carries the round; a v1 token (no round) is refused as not valid.
SALT = "custody-watch.ack-link.v2"
# Shown when a link's round has ended (``web.ack_pages``).
EARLIER_ROUND = (
    "this link was for an earlier round of this alert; use the latest message or the SMS code"
)


class InvalidLink(Exception):
    """The link is forged, damaged or expired; the message says which, for the page."""


@dataclass(frozen=True, slots=True)
class AckLink:
    alert_id: int
    person_id: str
    expires_at: datetime
    ack_round: int


class AckLinks:
    def __init__(self, key: str, base_url: str, ttl: timedelta) -> None:
        self._signer = URLSafeSerializer(key, salt=SALT)
        self._base = base_url.rstrip("/")
        self._ttl = ttl

    def token(self, alert_id: int, ack_round: int, person_id: str, now: datetime) -> str:
        expires = int((now + self._ttl).timestamp())
        payload = {"a": alert_id, "r": ack_round, "p": person_id, "e": expires}
        return str(self._signer.dumps(payload))

    def url(self, alert_id: int, ack_round: int, person_id: str, now: datetime) -> str:
        return f"{self._base}/ack/{self.token(alert_id, ack_round, person_id, now)}"

    def read(self, token: str, now: datetime) -> AckLink:
        try:
            data = self._signer.loads(token)
        except BadSignature:
            raise InvalidLink("this acknowledgement link is not valid") from None
        if not isinstance(data, dict) or not {"a", "r", "p", "e"} <= data.keys():
            raise InvalidLink("this acknowledgement link is not valid")
        expires = datetime.fromtimestamp(int(data["e"]), UTC)
        if now >= expires:
            raise InvalidLink("this acknowledgement link has expired; use the SMS code instead")
        return AckLink(int(data["a"]), str(data["p"]), expires, int(data["r"]))
