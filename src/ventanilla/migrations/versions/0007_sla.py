"""SLA: policies, each case's clocks (case_sla), channel promises and alerts with their recipients.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ventanilla.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_promise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("text_es", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("updated_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name=op.f("fk_channel_promise_channel_id_channel"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_channel_promise_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_promise")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_channel_promise_channel_id")),
    )
    op.create_index(op.f("ix_channel_promise_workspace_id"), "channel_promise", ["workspace_id"], unique=False)
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name=op.f("fk_sla_policy_channel_id_channel"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_sla_policy_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
    )
    op.create_index("ix_sla_policy_order", "sla_policy", ["workspace_id", "position", "id"], unique=False)
    op.create_table(
        "case_sla",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("started_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_since", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_seconds", sa.Float(), nullable=True),
        sa.Column("first_response_due", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_paused", sa.Float(), nullable=False),
        sa.Column("first_response_state", sa.String(length=16), nullable=True),
        sa.Column("first_responded_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_seconds", sa.Float(), nullable=True),
        sa.Column("next_response_started_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_done_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_due", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_paused", sa.Float(), nullable=False),
        sa.Column("next_response_state", sa.String(length=16), nullable=True),
        sa.Column("resolution_seconds", sa.Float(), nullable=True),
        sa.Column("resolution_due", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_paused", sa.Float(), nullable=False),
        sa.Column("resolution_state", sa.String(length=16), nullable=True),
        sa.Column("first_response_at_risk_alerted_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_breached_alerted_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_at_risk_alerted_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_breached_alerted_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_at_risk_alerted_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_breached_alerted_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", sa.Float(), nullable=True),
        sa.Column(
            "escalated_to", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("escalated_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_sla_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sla_policy.id"], name=op.f("fk_case_sla_policy_id_sla_policy"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_case_sla_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_sla")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_sla_case_id")),
    )
    op.create_index("ix_case_sla_running", "case_sla", ["workspace_id", "stopped_at"], unique=False)
    op.create_index("ix_case_sla_next_check", "case_sla", ["next_check"], unique=False)
    op.create_table(
        "sla_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "escalated_to", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", ventanilla.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_email_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_webhook_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_sla_alert_case_id_case_file")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_sla_alert_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_alert")),
        sa.UniqueConstraint("case_id", "target", "kind", name=op.f("uq_sla_alert_case_id_target_kind")),
    )
    op.create_index("ix_sla_alert_workspace_created", "sla_alert", ["workspace_id", "created_at"], unique=False)
    op.create_table(
        "sla_alert_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["sla_alert.id"], name=op.f("fk_sla_alert_recipient_alert_id_sla_alert"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_sla_alert_recipient_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_alert_recipient")),
        sa.UniqueConstraint("alert_id", "user_id", name=op.f("uq_sla_alert_recipient_alert_id_user_id")),
    )
    op.create_index("ix_sla_alert_recipient_user", "sla_alert_recipient", ["user_id", "read_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sla_alert_recipient_user", table_name="sla_alert_recipient")
    op.drop_table("sla_alert_recipient")
    op.drop_index("ix_sla_alert_workspace_created", table_name="sla_alert")
    op.drop_table("sla_alert")
    op.drop_index("ix_case_sla_next_check", table_name="case_sla")
    op.drop_index("ix_case_sla_running", table_name="case_sla")
    op.drop_table("case_sla")
    op.drop_index("ix_sla_policy_order", table_name="sla_policy")
    op.drop_table("sla_policy")
    op.drop_index(op.f("ix_channel_promise_workspace_id"), table_name="channel_promise")
    op.drop_table("channel_promise")
