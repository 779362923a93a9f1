"""initial store

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custody_watch.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("custody_ref", sa.String(length=128), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_custody_ref"), ["custody_ref"], unique=False)

    op.create_table(
        "detentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("custody_ref", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("suite", sa.String(length=64), nullable=False),
        sa.Column("force", sa.String(length=64), nullable=True),
        sa.Column(
            "arrival_time", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "released_time", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("is_child", sa.Boolean(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column(
            "record_updated_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "first_seen_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_changed_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "next_check_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("custody_ref"),
    )
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_detentions_next_check_at"), ["next_check_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_detentions_suite"), ["suite"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("file", sa.String(length=512), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("custody_ref", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column(
            "received_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quarantine_source"), ["source"], unique=False)

    op.create_table(
        "source_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("label", sa.String(length=512), nullable=False),
        sa.Column(
            "received_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "key"),
    )
    op.create_table(
        "source_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("watermark", sa.String(length=128), nullable=True),
        sa.Column(
            "first_poll_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_poll_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_success_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_data_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "last_error_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("live_key", sa.String(length=200), nullable=True),
        sa.Column("detention_id", sa.Integer(), nullable=True),
        sa.Column("custody_ref", sa.String(length=128), nullable=True),
        sa.Column("suite", sa.String(length=64), nullable=True),
        sa.Column("force", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("opened_severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("ack_code", sa.String(length=8), nullable=False),
        sa.Column("live_ack_code", sa.String(length=8), nullable=True),
        sa.Column(
            "opened_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "first_notified_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "acknowledged_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column(
            "first_acknowledged_at",
            custody_watch.store.types.UtcDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "ack_expires_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "resolved_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("escalation", sa.JSON(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column(
            "next_action_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["detention_id"],
            ["detentions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("live_ack_code"),
        sa.UniqueConstraint("live_key"),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_custody_ref"), ["custody_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_detention_id"), ["detention_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alerts_next_action_at"), ["next_action_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alerts_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_subject"), ["subject"], unique=False)

    op.create_table(
        "detention_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("detention_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.String(length=512), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column(
            "received_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "record_updated_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("became_current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["detention_id"],
            ["detentions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("detention_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_detention_versions_detention_id"), ["detention_id"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("since", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column(
            "raised_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "cleared_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "rule"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column(
            "lease_until", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        sa.Column("sent_at", custody_watch.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_outbox_due", ["state", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_provider_id"))
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_alert_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_alert_id"))

    op.drop_table("findings")
    with op.batch_alter_table("detention_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detention_versions_detention_id"))

    op.drop_table("detention_versions")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_subject"))
        batch_op.drop_index(batch_op.f("ix_alerts_state"))
        batch_op.drop_index(batch_op.f("ix_alerts_opened_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_next_action_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_detention_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_custody_ref"))

    op.drop_table("alerts")
    op.drop_table("source_state")
    op.drop_table("source_files")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_source"))
        batch_op.drop_index(batch_op.f("ix_quarantine_received_at"))

    op.drop_table("quarantine")
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detentions_suite"))
        batch_op.drop_index(batch_op.f("ix_detentions_next_check_at"))

    op.drop_table("detentions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_custody_ref"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_alert_id"))

    op.drop_table("audit_log")
