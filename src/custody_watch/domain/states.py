"""The states an alert and an outbox row move through, as the store keeps them.

``StrEnum``: each member is its stored string, so JSON, CSV and CLI output, templates and
comparisons with text read exactly as before, and a typo is a name error, not a silent miss."""

from __future__ import annotations

from enum import StrEnum


class AlertState(StrEnum):
    """``open`` pages until acknowledged; ``acknowledged`` waits for its timeout;
    ``resolved`` is history (no live key, no live ack code)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# The states in which an alert still has a live key and may page.
LIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class OutboxState(StrEnum):
    """``pending`` waits to be claimed; ``sending`` is claimed under a lease; ``sent`` went
    to the provider; ``failed`` for good (or ``exhausted`` on an outage, see dispatch);
    ``cancelled`` before sending (the alert was acknowledged or resolved)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A page in one of these reached, or may yet reach, its person.
TOLD_STATES = (OutboxState.SENT, OutboxState.SENDING, OutboxState.PENDING)
