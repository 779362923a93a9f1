"""Keys the instance makes for itself when the environment gives none (signing ack links and
sessions). Kept in the database so links sent before a restart still work after it."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custody_watch.store.schema import InstanceSecretRow


def instance_secret(session: Session, name: str, now: datetime) -> str:
    row = session.get(InstanceSecretRow, name)
    if row is not None:
        return row.value
    try:
        with session.begin_nested():
            session.add(
                InstanceSecretRow(name=name, value=secrets.token_urlsafe(32), created_at=now)
            )
    except IntegrityError:
        pass  # another daemon made it first: use theirs
    row = session.get(InstanceSecretRow, name)
    assert row is not None
    return row.value
