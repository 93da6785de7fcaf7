"""Transparency guardrails (case_guardrail, post_visibility), follow-ups and CSAT (followup,
csat_response), the improvement backlog (improvement, improvement_case, improvement_notice).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ventanilla.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('improvement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('root_reason', sa.String(length=32), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('customer_note', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('planned_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_improvement_created_by_user_account')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_improvement_owner_id_user_account')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_improvement_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement'))
    )
    with op.batch_alter_table('improvement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('case_guardrail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('do_not_engage', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_guardrail_case_id_case_file')),
    sa.ForeignKeyConstraint(['set_by'], ['user_account.id'], name=op.f('fk_case_guardrail_set_by_user_account')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_case_guardrail_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_guardrail')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_guardrail_case_id'))
    )
    with op.batch_alter_table('case_guardrail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_guardrail_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('due_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_followup_case_id_case_file')),
    sa.ForeignKeyConstraint(['delivered_by'], ['user_account.id'], name=op.f('fk_followup_delivered_by_user_account')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_followup_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_followup_token_hash'))
    )
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_followup_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('improvement_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('improvement_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sa.Integer(), nullable=True),
    sa.Column('linked_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_improvement_case_case_id_case_file')),
    sa.ForeignKeyConstraint(['improvement_id'], ['improvement.id'], name=op.f('fk_improvement_case_improvement_id_improvement')),
    sa.ForeignKeyConstraint(['linked_by'], ['user_account.id'], name=op.f('fk_improvement_case_linked_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_case')),
    sa.UniqueConstraint('improvement_id', 'case_id', name=op.f('uq_improvement_case_improvement_id_case_id'))
    )
    with op.batch_alter_table('improvement_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_case_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_improvement_case_improvement_id'), ['improvement_id'], unique=False)

    op.create_table('improvement_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('improvement_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_improvement_notice_case_id_case_file')),
    sa.ForeignKeyConstraint(['improvement_id'], ['improvement.id'], name=op.f('fk_improvement_notice_improvement_id_improvement')),
    sa.ForeignKeyConstraint(['sent_by'], ['user_account.id'], name=op.f('fk_improvement_notice_sent_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_notice')),
    sa.UniqueConstraint('improvement_id', 'case_id', name=op.f('uq_improvement_notice_improvement_id_case_id'))
    )
    with op.batch_alter_table('improvement_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_notice_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_improvement_notice_improvement_id'), ['improvement_id'], unique=False)

    op.create_table('csat_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('followup_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_csat_response_score_range')),
    sa.ForeignKeyConstraint(['followup_id'], ['followup.id'], name=op.f('fk_csat_response_followup_id_followup')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_response')),
    sa.UniqueConstraint('followup_id', name=op.f('uq_csat_response_followup_id'))
    )
    op.create_table('post_visibility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['user_account.id'], name=op.f('fk_post_visibility_approved_by_user_account')),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_visibility_post_id_post')),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], name=op.f('fk_post_visibility_requested_by_user_account')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_post_visibility_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_visibility')),
    sa.UniqueConstraint('post_id', name=op.f('uq_post_visibility_post_id'))
    )
    with op.batch_alter_table('post_visibility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_visibility_workspace_id'), ['workspace_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('post_visibility', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_visibility_workspace_id'))

    op.drop_table('post_visibility')
    op.drop_table('csat_response')
    with op.batch_alter_table('improvement_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_notice_improvement_id'))
        batch_op.drop_index(batch_op.f('ix_improvement_notice_case_id'))

    op.drop_table('improvement_notice')
    with op.batch_alter_table('improvement_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_case_improvement_id'))
        batch_op.drop_index(batch_op.f('ix_improvement_case_case_id'))

    op.drop_table('improvement_case')
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_workspace_id'))
        batch_op.drop_index('ix_followup_due')
        batch_op.drop_index(batch_op.f('ix_followup_case_id'))

    op.drop_table('followup')
    with op.batch_alter_table('case_guardrail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_guardrail_workspace_id'))

    op.drop_table('case_guardrail')
    with op.batch_alter_table('improvement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_workspace_id'))

    op.drop_table('improvement')
