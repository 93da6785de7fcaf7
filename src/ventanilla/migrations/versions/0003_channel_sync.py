"""channel_sync: cursor, schedule, health and lease of each polled channel.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ventanilla.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("last_sync_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("poll_seconds", sa.Integer(), server_default="300", nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("healthy", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("backoff_until", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_channel_sync_channel_id_channel"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_sync")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_channel_sync_channel_id")),
    )
    with op.batch_alter_table("channel_sync", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_sync_next_sync_at"), ["next_sync_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_sync", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_sync_next_sync_at"))
    op.drop_table("channel_sync")
