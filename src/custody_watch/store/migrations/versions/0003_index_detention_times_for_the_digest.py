"""index detention times for the digest

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_detentions_arrival_time"), ["arrival_time"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_detentions_released_time"), ["released_time"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detentions_released_time"))
        batch_op.drop_index(batch_op.f("ix_detentions_arrival_time"))
