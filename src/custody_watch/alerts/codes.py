"""Acknowledgement codes: four digits, unique among live alerts.

Digits only, so a code can never be one of Twilio's opt-out words (STOP, END, QUIT...), and
easy to type on a phone at 3 a.m. Uniqueness is enforced by the database (``live_ack_code``
is UNIQUE); this picks a code that is free now."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.store.schema import AlertRow


def new_ack_code(session: Session) -> str:
    taken = set(
        session.scalars(select(AlertRow.live_ack_code).where(AlertRow.live_ack_code.is_not(None)))
    )
    for _ in range(200):
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            return code
    # 9,000 codes and 200 misses: thousands of live alerts. Widen rather than fail.
    return f"{secrets.randbelow(900000) + 100000}"
