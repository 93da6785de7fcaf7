"""Agents' corrections of triage labels.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ventanilla.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=64), nullable=True),
        sa.Column("new_value", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_label_correction_post_id_post")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_label_correction_user_id_user_account")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"],
                                name=op.f("fk_label_correction_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_correction")),
    )
    op.create_index(op.f("ix_label_correction_post_id"), "label_correction", ["post_id"])
    op.create_index(op.f("ix_label_correction_workspace_id"), "label_correction", ["workspace_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_label_correction_workspace_id"), table_name="label_correction")
    op.drop_index(op.f("ix_label_correction_post_id"), table_name="label_correction")
    op.drop_table("label_correction")
