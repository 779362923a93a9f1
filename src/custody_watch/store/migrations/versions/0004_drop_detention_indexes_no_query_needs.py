"""drop detention indexes that no query needs

The board, the metrics and the digest all find detentions through ``released_time`` (open,
or released since a given instant). With indexes on ``suite`` and ``arrival_time`` as well,
SQLite chose to walk one of those instead, reading every detention ever stored; and each
index cost every ingested row another B-tree insert.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detentions_arrival_time"))
        batch_op.drop_index(batch_op.f("ix_detentions_suite"))


def downgrade() -> None:
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detentions_suite"), ["suite"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_detentions_arrival_time"), ["arrival_time"], unique=False
        )
