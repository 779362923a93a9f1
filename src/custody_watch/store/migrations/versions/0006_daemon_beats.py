"""daemon beats

Each daemon writes its row every tick and every heartbeat, so a daemon whose store has
become read-only (or locked) finds out within a tick and reports itself unhealthy.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custody_watch.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemon_beats",
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column(
            "started_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("beat_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker"),
    )


def downgrade() -> None:
    op.drop_table("daemon_beats")
