"""A recording channel: a fake at the network edge that implements the ``Channel``
protocol, remembers what it was asked to send, and fails when told to."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from custody_watch.notify.base import AddressKind, DeliveryError, Message, Receipt


@dataclass(frozen=True)
class Sent:
    to: str
    text: str
    subject: str
    reference: str  # the outbox row id


class RecordingChannel:
    def __init__(self, name: str, address_kind: AddressKind) -> None:
        self.name = name
        self.address_kind = address_kind
        self.sent: list[Sent] = []
        self.attempts = 0
        self._lock = threading.Lock()
        self._next_failures: list[DeliveryError] = []
        self._dead: dict[str, DeliveryError] = {}

    def fail_next(
        self,
        count: int,
        *,
        permanent: bool,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next ``count`` sends raise ``DeliveryError``."""
        error = DeliveryError(
            f"{self.name} refused ({code or 'no code'})",
            permanent=permanent,
            code=code,
            retry_after=retry_after,
        )
        with self._lock:
            self._next_failures.extend([error] * count)

    def recover(self) -> None:
        """The provider answers again: queued failures are forgotten."""
        with self._lock:
            self._next_failures.clear()
            self._dead.clear()

    def fail_always_for(self, address: str, *, code: str = "21211") -> None:
        """Every send to ``address`` fails permanently (a wrong number, a dead mailbox)."""
        with self._lock:
            self._dead[address] = DeliveryError(
                f"{self.name}: invalid 'To' {address}", permanent=True, code=code
            )

    def send(self, message: Message) -> Receipt:
        with self._lock:
            self.attempts += 1
            if message.to in self._dead:
                raise self._dead[message.to]
            if self._next_failures:
                raise self._next_failures.pop(0)
            self.sent.append(Sent(message.to, message.text, message.subject, message.reference))
            return Receipt(provider_id=f"{self.name}-{message.reference}-{len(self.sent)}")

    def references(self) -> list[str]:
        with self._lock:
            return [s.reference for s in self.sent]

    def duplicates(self) -> dict[str, int]:
        with self._lock:
            counts = Counter(s.reference for s in self.sent)
        return {ref: n for ref, n in counts.items() if n > 1}
