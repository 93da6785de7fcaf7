"""SLA: the computed columns of each case's clocks in a narrow table of their own.

The bulk recomputation rewrites, for every running clock, its due times, states and next check.
On the wide `case_sla` row with four indexes that cost a new version of the whole row plus four
index entries per clock on PostgreSQL (about 3.4 s of server CPU for 100,000 clocks). Those
columns now live in `case_sla_clock` (one row per `case_sla`, same id): short rows, no index but
the primary key, and on PostgreSQL `fillfactor = 50` so the updates are HOT. The `next_check`
index goes: a scan of the narrow table costs less than keeping the index up to date (it also
made every update non-HOT).

SQLite: columns are dropped with `ALTER TABLE ... DROP COLUMN` (SQLite >= 3.35), not by
recreating `case_sla`, which would cascade-delete the new clock rows.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ventanilla.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOVED = ("first_response_due", "first_response_state", "next_response_due", "next_response_state",
          "resolution_due", "resolution_state", "next_check")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "case_sla_clock",
        sa.Column("case_sla_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_response_due", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_state", sa.String(length=16), nullable=True),
        sa.Column("next_response_due", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_response_state", sa.String(length=16), nullable=True),
        sa.Column("resolution_due", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_state", sa.String(length=16), nullable=True),
        sa.Column("next_check", sa.Float(), nullable=True),
        sa.Column("computed_at", ventanilla.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_sla_id"], ["case_sla.id"],
                                name=op.f("fk_case_sla_clock_case_sla_id_case_sla"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_sla_id", name=op.f("pk_case_sla_clock")),
        postgresql_with={"fillfactor": "50"},
    )
    columns = ", ".join(_MOVED)
    op.execute(f"INSERT INTO case_sla_clock (case_sla_id, {columns}, computed_at) "
               f"SELECT id, {columns}, updated_at FROM case_sla")
    op.drop_index("ix_case_sla_next_check", table_name="case_sla")
    for column in _MOVED:
        op.execute(f"ALTER TABLE case_sla DROP COLUMN {column}")
    if postgres:
        op.execute("ANALYZE case_sla_clock")


def downgrade() -> None:
    for column in _MOVED:
        kind = sa.Float() if column == "next_check" else (
            sa.String(length=16) if column.endswith("_state") else ventanilla.db.UTCDateTime(timezone=True))
        op.add_column("case_sla", sa.Column(column, kind, nullable=True))
    sets = ", ".join(f"{column} = (SELECT k.{column} FROM case_sla_clock AS k WHERE k.case_sla_id = case_sla.id)"
                     for column in _MOVED)
    op.execute(f"UPDATE case_sla SET {sets}")
    op.create_index("ix_case_sla_next_check", "case_sla", ["next_check"], unique=False)
    op.drop_table("case_sla_clock")
