"""channel_listener: status and lease of each channel's push listener.

Listeners run in other processes than the web page that shows them (`channels listen`,
`channels sync --loop`, the clock, `serve`), so their state is kept here; the same row is the
lease that keeps one listener per channel (taken by a compare-and-set UPDATE, kept by a
heartbeat, free again when the heartbeat goes stale).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ventanilla.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_listener",
        sa.Column("channel_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("host", sa.String(length=128), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("process", sa.String(length=128), nullable=True),
        sa.Column("since", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("listening", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_event_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reconnects", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_channel_listener_channel_id_channel"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_listener")),
    )


def downgrade() -> None:
    op.drop_table("channel_listener")
