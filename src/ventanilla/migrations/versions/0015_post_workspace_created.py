"""Posts indexed by (workspace, created_at) instead of by workspace alone.

The crisis scan looks up a topic's example posts among a workspace's recent posts on every
alert event; with only the workspace index that read every post of the workspace, so the scan
grew slower as the table grew. The composite index serves every query the old one did (its
first column is the workspace), so the number of indexes written per post stays the same.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post") as batch_op:
        batch_op.create_index("ix_post_workspace_created", ["workspace_id", "created_at"], unique=False)
        batch_op.drop_index("ix_post_workspace_id")


def downgrade() -> None:
    with op.batch_alter_table("post") as batch_op:
        batch_op.create_index("ix_post_workspace_id", ["workspace_id"], unique=False)
        batch_op.drop_index("ix_post_workspace_created")
