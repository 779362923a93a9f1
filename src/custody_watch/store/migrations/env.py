"""Alembic environment: custody-watch runs migrations itself (``store.migrate``), handing
over a live connection, so there is no alembic.ini and no URL in a file."""

from __future__ import annotations

from alembic import context

from custody_watch.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    raise RuntimeError("run migrations with `custody-watch db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
