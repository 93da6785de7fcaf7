"""Case workflow: routing rules, the playbook checklist, resolutions with goodwill, private hand-offs.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ventanilla.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('auto_assign', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_routing_rule_team_id_team')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_routing_rule_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule'))
    )
    op.create_index(op.f('ix_routing_rule_workspace_id'), 'routing_rule', ['workspace_id'], unique=False)
    op.create_table('case_checklist_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('done_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_by', sa.String(length=255), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_checklist_step_case_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_checklist_step')),
    sa.UniqueConstraint('case_id', 'step', name=op.f('uq_case_checklist_step_case_id_step'))
    )
    op.create_index(op.f('ix_case_checklist_step_case_id'), 'case_checklist_step', ['case_id'], unique=False)
    op.create_table('case_handoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_handoff_case_id_case_file')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_handoff_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_handoff'))
    )
    op.create_index(op.f('ix_case_handoff_case_id'), 'case_handoff', ['case_id'], unique=False)
    op.create_table('case_resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('classification', sa.String(length=16), nullable=False),
    sa.Column('root_cause', sa.String(length=200), nullable=True),
    sa.Column('goodwill_kind', sa.String(length=16), nullable=True),
    sa.Column('goodwill_value', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('approval', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('created_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_resolution_case_id_case_file')),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], name=op.f('fk_case_resolution_requested_by_user_account')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['user_account.id'], name=op.f('fk_case_resolution_reviewed_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_resolution')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_resolution_case_id'))
    )


def downgrade() -> None:
    for table in ("case_resolution", "case_handoff", "case_checklist_step", "routing_rule"):
        op.drop_table(table)
