"""Indexed substring search on post text: FTS5 trigram on SQLite, pg_trgm on PostgreSQL.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX IF NOT EXISTS ix_post_text_trgm ON post USING gin (text gin_trgm_ops)")
        op.execute("CREATE INDEX IF NOT EXISTS ix_author_handle_trgm ON author USING gin (handle gin_trgm_ops)")
        return
    op.execute("CREATE VIRTUAL TABLE post_search USING fts5(text, content='post', content_rowid='id', "
               "tokenize='trigram')")
    op.execute("INSERT INTO post_search(rowid, text) SELECT id, text FROM post")
    op.execute("CREATE TRIGGER post_search_insert AFTER INSERT ON post BEGIN "
               "INSERT INTO post_search(rowid, text) VALUES (new.id, new.text); END")
    op.execute("CREATE TRIGGER post_search_update AFTER UPDATE OF text ON post BEGIN "
               "INSERT INTO post_search(post_search, rowid, text) VALUES ('delete', old.id, old.text); "
               "INSERT INTO post_search(rowid, text) VALUES (new.id, new.text); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_author_handle_trgm")
        return
    op.execute("DROP TRIGGER IF EXISTS post_search_insert")
    op.execute("DROP TRIGGER IF EXISTS post_search_update")
    op.execute("DROP TABLE IF EXISTS post_search")
