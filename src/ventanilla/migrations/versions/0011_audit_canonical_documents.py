"""Audit documents keep their canonical text: PostgreSQL's `json`, not `jsonb`, for before/after.

`jsonb` re-orders and re-spaces a document, so the verifier had to parse it and serialise it
again for every event. `json` keeps the canonical text the writer hashed byte for byte, and
`audit verify` hashes it as stored. The hashes do not change and no event is re-chained:
documents converted here (in jsonb's own text form) are still verified by parsing them.
SQLite already stores the text as given: nothing to do there.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retype(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A column type change rewrites the table without firing the append-only row trigger.
    op.execute(
        f'ALTER TABLE audit_event ALTER COLUMN "before" TYPE {kind} USING "before"::{kind}, '
        f'ALTER COLUMN "after" TYPE {kind} USING "after"::{kind}'
    )


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")
