"""Crisis room: alerts, rooms, members, timeline, statements with sign-offs, post-mortems.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ventanilla.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crisis_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('episode_key', sa.String(length=64), nullable=False),
    sa.Column('brand', sa.String(length=200), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('example_post_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('examples', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('levels', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('opened_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('peak_negative_hour', sa.Integer(), nullable=False),
    sa.Column('peak_z', sa.Double(), nullable=False),
    sa.Column('delivered_email_at', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('delivered_webhook_at', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_crisis_alert_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_alert')),
    sa.UniqueConstraint('workspace_id', 'episode_key', name=op.f('uq_crisis_alert_workspace_id_episode_key'))
    )
    op.create_index(op.f('ix_crisis_alert_workspace_id'), 'crisis_alert', ['workspace_id'], unique=False)
    op.create_table('crisis_room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['crisis_alert.id'], name=op.f('fk_crisis_room_alert_id_crisis_alert')),
    sa.ForeignKeyConstraint(['opened_by'], ['user_account.id'], name=op.f('fk_crisis_room_opened_by_user_account')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_crisis_room_workspace_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_room'))
    )
    op.create_index(op.f('ix_crisis_room_workspace_id'), 'crisis_room', ['workspace_id'], unique=False)
    op.create_table('crisis_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('refs', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_crisis_entry_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['room_id'], ['crisis_room.id'], name=op.f('fk_crisis_entry_room_id_crisis_room')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_entry'))
    )
    op.create_index('ix_crisis_entry_room_at', 'crisis_entry', ['room_id', 'at'], unique=False)
    op.create_table('crisis_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('seen_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['added_by'], ['user_account.id'], name=op.f('fk_crisis_member_added_by_user_account')),
    sa.ForeignKeyConstraint(['room_id'], ['crisis_room.id'], name=op.f('fk_crisis_member_room_id_crisis_room')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_crisis_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_member')),
    sa.UniqueConstraint('room_id', 'user_id', 'role', name=op.f('uq_crisis_member_room_id_user_id_role'))
    )
    op.create_index(op.f('ix_crisis_member_room_id'), 'crisis_member', ['room_id'], unique=False)
    op.create_index(op.f('ix_crisis_member_user_id'), 'crisis_member', ['user_id'], unique=False)
    op.create_table('crisis_postmortem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('went_badly', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('volume_curve', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('written_by', sa.Integer(), nullable=False),
    sa.Column('written_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['crisis_room.id'], name=op.f('fk_crisis_postmortem_room_id_crisis_room')),
    sa.ForeignKeyConstraint(['written_by'], ['user_account.id'], name=op.f('fk_crisis_postmortem_written_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_postmortem')),
    sa.UniqueConstraint('room_id', name=op.f('uq_crisis_postmortem_room_id'))
    )
    op.create_table('crisis_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('edited_by', sa.Integer(), nullable=False),
    sa.Column('edited_at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('published_at', ventanilla.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['edited_by'], ['user_account.id'], name=op.f('fk_crisis_statement_edited_by_user_account')),
    sa.ForeignKeyConstraint(['published_by'], ['user_account.id'], name=op.f('fk_crisis_statement_published_by_user_account')),
    sa.ForeignKeyConstraint(['room_id'], ['crisis_room.id'], name=op.f('fk_crisis_statement_room_id_crisis_room')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_statement')),
    sa.UniqueConstraint('room_id', 'language', 'version', name=op.f('uq_crisis_statement_room_id_language_version'))
    )
    op.create_index(op.f('ix_crisis_statement_room_id'), 'crisis_statement', ['room_id'], unique=False)
    op.create_table('crisis_signoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', ventanilla.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['crisis_statement.id'], name=op.f('fk_crisis_signoff_statement_id_crisis_statement')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_crisis_signoff_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_signoff')),
    sa.UniqueConstraint('statement_id', 'role', name=op.f('uq_crisis_signoff_statement_id_role'))
    )
    op.create_index(op.f('ix_crisis_signoff_statement_id'), 'crisis_signoff', ['statement_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_crisis_signoff_statement_id'), table_name='crisis_signoff')
    op.drop_table('crisis_signoff')
    op.drop_index(op.f('ix_crisis_statement_room_id'), table_name='crisis_statement')
    op.drop_table('crisis_statement')
    op.drop_table('crisis_postmortem')
    op.drop_index(op.f('ix_crisis_member_user_id'), table_name='crisis_member')
    op.drop_index(op.f('ix_crisis_member_room_id'), table_name='crisis_member')
    op.drop_table('crisis_member')
    op.drop_index('ix_crisis_entry_room_at', table_name='crisis_entry')
    op.drop_table('crisis_entry')
    op.drop_index(op.f('ix_crisis_room_workspace_id'), table_name='crisis_room')
    op.drop_table('crisis_room')
    op.drop_index(op.f('ix_crisis_alert_workspace_id'), table_name='crisis_alert')
    op.drop_table('crisis_alert')
