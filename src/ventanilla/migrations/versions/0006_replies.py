"""Replies: the outbox and approvals (reply), the lead's templates (reply_template), macros (saved_reply).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ventanilla.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_reply_template_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_reply_template_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_template")),
        sa.UniqueConstraint(
            "workspace_id",
            "key",
            "language",
            "version",
            name=op.f("uq_reply_template_workspace_id_key_language_version"),
        ),
    )
    with op.batch_alter_table("reply_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_template_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "saved_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("shortcut", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_saved_reply_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_saved_reply_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_reply")),
    )
    with op.batch_alter_table("saved_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_reply_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "findings", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "approval_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("offer_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("offer_currency", sa.String(length=3), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sending_started_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"], name=op.f("fk_reply_author_id_user_account")),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_reply_case_id_case_file")),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_reply_channel_id_channel")),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_reply_post_id_post")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["user_account.id"], name=op.f("fk_reply_reviewer_id_user_account")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_reply_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_reply_idempotency_key")),
    )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_reply_outbox", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_reply_workspace_status", ["workspace_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_index("ix_reply_workspace_status")
        batch_op.drop_index("ix_reply_outbox")
        batch_op.drop_index(batch_op.f("ix_reply_case_id"))
    op.drop_table("reply")
    with op.batch_alter_table("saved_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_reply_workspace_id"))
    op.drop_table("saved_reply")
    with op.batch_alter_table("reply_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_template_workspace_id"))
    op.drop_table("reply_template")
