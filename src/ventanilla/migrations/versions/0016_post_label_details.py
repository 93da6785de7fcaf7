"""Triage details (evidence words, confidences, impact breakdown, urgency cues) in a column of
their own, ``post.label_details``, apart from the label values in ``post.labels``.

The values are what queries filter on (the inbox, crisis detection), so they stay a JSONB
document on PostgreSQL; the details are only ever shown, and were most of each document: as
JSONB every import parsed them into a tree for nothing. On PostgreSQL ``label_details`` is plain
``json`` (stored as checked text, several times cheaper to write); on SQLite both are JSON text.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post") as batch_op:
        batch_op.add_column(sa.Column("label_details", sa.JSON(none_as_null=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # A JSON null under "details" becomes SQL NULL, as on SQLite.
        op.execute("UPDATE post SET label_details = CASE WHEN jsonb_typeof(labels -> 'details') = 'null' "
                   "THEN NULL ELSE (labels -> 'details')::json END, labels = labels - 'details' "
                   "WHERE labels ? 'details'")
    else:
        op.execute("UPDATE post SET label_details = json_extract(labels, '$.details'), "
                   "labels = json_remove(labels, '$.details') "
                   "WHERE labels IS NOT NULL AND json_type(labels, '$.details') IS NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE post SET labels = labels || jsonb_build_object('details', label_details::jsonb) "
                   "WHERE labels IS NOT NULL AND label_details IS NOT NULL")
    else:
        op.execute("UPDATE post SET labels = json_set(labels, '$.details', json(label_details)) "
                   "WHERE labels IS NOT NULL AND label_details IS NOT NULL")
    # ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): copying the table instead would fail on the
    # foreign keys of the rows that point at posts (replies, corrections, ...).
    with op.batch_alter_table("post", recreate="never") as batch_op:
        batch_op.drop_column("label_details")
