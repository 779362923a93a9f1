"""unbounded provider text, claim tokens, exhausted rows

On PostgreSQL an SMTP Message-ID (72 characters) did not fit ``outbox.provider_id``
(varchar(64)): recording ``sent`` failed, the row stayed ``sending`` and the email went out
again at every lease expiry. Every column that holds what a provider or a host returns is now
unbounded text (or, for a unique key, 255 characters).

``outbox.claim_token`` identifies one claim of a row, so a dispatcher whose lease ran out can
neither send the row nor record over its successor's result; ``tried_at`` and ``exhausted``
let pages that ran out of tries during an outage be sent again when the channel answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custody_watch.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "tried_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("exhausted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for name, before in (
            ("claimed_by", sa.String(length=128)),
            ("error_code", sa.String(length=32)),
            ("provider_id", sa.String(length=64)),
            ("provider_status", sa.String(length=32)),
        ):
            batch_op.alter_column(
                name, existing_type=before, type_=sa.Text(), existing_nullable=True
            )
    # The server default only filled the existing rows; the schema sets the value itself.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("exhausted", existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.alter_column(
            "claimed_by",
            existing_type=sa.String(length=128),
            type_=sa.Text(),
            existing_nullable=True,
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column(
            "actor", existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=False
        )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.alter_column(
            "message_sid",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=32),
            type_=sa.String(length=64),
            existing_nullable=False,
        )


def downgrade() -> None:
    # PostgreSQL refuses to go back while a value is longer than the old size: on purpose,
    # since cutting a provider id would break the status callbacks that name it.
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=64), type_=sa.String(length=32)
        )
        batch_op.alter_column(
            "message_sid", existing_type=sa.String(length=255), type_=sa.String(length=64)
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("actor", existing_type=sa.Text(), type_=sa.String(length=128))
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.alter_column("claimed_by", existing_type=sa.Text(), type_=sa.String(length=128))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name, after in (
            ("claimed_by", sa.String(length=128)),
            ("error_code", sa.String(length=32)),
            ("provider_id", sa.String(length=64)),
            ("provider_status", sa.String(length=32)),
        ):
            batch_op.alter_column(name, existing_type=sa.Text(), type_=after)
        batch_op.drop_column("exhausted")
        batch_op.drop_column("tried_at")
        batch_op.drop_column("claim_token")
