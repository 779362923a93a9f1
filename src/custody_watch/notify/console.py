"""A channel that prints each message: the out-of-the-box daemon's only channel, and a
stand-in for SMS or email whose credentials are not set."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from custody_watch.notify.base import AddressKind, Message, Receipt

_WIDTH = 72


class Console:
    def __init__(
        self,
        name: str,
        stream: TextIO | None = None,
        *,
        address_kind: AddressKind = "any",
        note: str | None = None,
    ) -> None:
        """``note`` heads every message, e.g. to say it stands in for an SMS channel; a
        stand-in keeps that channel's ``address_kind`` so it is given the same addresses."""
        self.name = name
        self.address_kind: AddressKind = address_kind
        self._stream = stream
        self._note = note
        # One write per block under a lock: dispatch may send from several threads, and
        # interleaved lines would make two alerts unreadable.
        self._lock = threading.Lock()

    def send(self, message: Message) -> Receipt:
        block = format_block(self.name, message, self._note)
        # sys.stdout is looked up at send time, so pytest's capture and redirections apply.
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(block)
            stream.flush()
        return Receipt(provider_id=None, status="delivered")


def format_block(channel: str, message: Message, note: str | None = None) -> str:
    title = f"── {channel} "
    lines = [title + "─" * max(3, _WIDTH - len(title))]
    if note:
        lines.append(f"!! {note}")
    lines.append(f"To:      {message.to}")
    if message.subject:
        lines.append(f"Subject: {message.subject}")
    if message.reference:
        lines.append(f"Ref:     {message.reference}")
    extras = []
    if message.html is not None:
        extras.append("an HTML version")
    if message.images:
        extras.append(f"{len(message.images)} image(s)")
    if extras:
        lines.append(f"Also:    {' and '.join(extras)} (not shown)")
    lines.append("")
    lines.extend(message.text.rstrip("\n").splitlines())
    lines.append("─" * _WIDTH)
    return "\n".join(lines) + "\n\n"
