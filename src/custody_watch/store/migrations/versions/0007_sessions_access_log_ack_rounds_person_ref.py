"""server-side sessions, the access log, ack rounds, person_ref

- ``web_sessions``: revocable sessions (logout and an admin's "end all" end them at once).
- ``access_log``: who consulted or disclosed which child's record (DPA 2018 s.62).
- PostgreSQL only: triggers refuse UPDATE and DELETE on ``audit_log`` and ``access_log``
  (append-only), except a DELETE in a transaction the retention job marked with
  ``custody_watch.retention = on`` (``store.retention``); SQLite relies on the store's guard.
- ``alerts.ack_round``: an acknowledgement link works only in the round it was sent for.
- ``alerts.snoozed_*``, ``alerts.assigned_to`` and ``alert_notes``: snooze with a reason,
  reassign, and handover notes on an alert.
- ``outbox.render``: what a message needs to be made again when it is sent.
- ``detentions.person_ref`` with an index on (person_ref, arrival_time): ``repeat_detention``
  reads a person's other detentions by index, not by scanning history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custody_watch.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_UTC = custody_watch.store.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", _UTC(timezone=True), nullable=False),
        sa.Column("expires_at", _UTC(timezone=True), nullable=False),
        sa.Column("ended_at", _UTC(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_username"), ["username"], unique=False)
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("custody_ref", sa.String(length=128), nullable=False),
        sa.Column("what", sa.String(length=64), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_log_custody_ref"), ["custody_ref"], unique=False
        )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ack_round", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("ack_round", existing_type=sa.Integer(), server_default=None)
        batch_op.add_column(sa.Column("snoozed_until", _UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("snoozed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("snooze_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=64), nullable=True))
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_notes_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_notes_at"), ["at"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("render", sa.JSON(), nullable=True))
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_ref", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_detentions_person_arrival", ["person_ref", "arrival_time"], unique=False
        )
    _person_refs_from_records()
    _append_only_triggers()


# The setting store.retention turns on (SET LOCAL) for its own DELETE transactions.
_APPEND_ONLY_FUNCTION = """
CREATE FUNCTION custody_watch_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('custody_watch.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$ LANGUAGE plpgsql
"""
_APPEND_ONLY_TABLES = ("audit_log", "access_log")


def _person_refs_from_records() -> None:
    """Detentions stored before this revision: their person_ref out of the stored record
    (which the reader has already held to 64 characters), so that repeat_detention counts
    them at once rather than after their next version."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE detentions SET person_ref = left(record->>'person_ref', 64)"
            " WHERE record->>'person_ref' IS NOT NULL"
        )
    else:
        op.execute(
            "UPDATE detentions SET person_ref = substr(json_extract(record, '$.person_ref'), 1, 64)"
            " WHERE json_extract(record, '$.person_ref') IS NOT NULL"
        )


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_APPEND_ONLY_FUNCTION)
    for table in _APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION custody_watch_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS custody_watch_append_only()")
    with op.batch_alter_table("detentions", schema=None) as batch_op:
        batch_op.drop_index("ix_detentions_person_arrival")
        batch_op.drop_column("person_ref")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("render")
    op.drop_table("alert_notes")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for name in ("assigned_to", "snooze_reason", "snoozed_by", "snoozed_until", "ack_round"):
            batch_op.drop_column(name)
    op.drop_table("access_log")
    op.drop_table("web_sessions")
