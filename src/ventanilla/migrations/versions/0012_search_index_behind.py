"""Search index fed behind ingest. Keeping a trigram index of every post's text up to date on
insert cost more than storing the post itself (SQLite FTS5 trigram: ~3x; PostgreSQL GIN
pg_trgm: ~30x a plain COPY). Now a job adds new posts to the index in batches, and search scans
the few posts the job has not reached yet, so results stay complete.

SQLite: writers are serialised, so a high-water mark on post ids says what is indexed.
PostgreSQL: concurrent writers commit ids out of order, so new ids go to a queue table (one
statement-level trigger per insert statement, COPY included) that the job drains into
``post_search``, a table of its own with the GIN index.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TABLE post_search (post_id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        op.execute("CREATE TABLE post_search_queue (post_id INTEGER PRIMARY KEY)")
        op.execute("INSERT INTO post_search (post_id, text) SELECT id, text FROM post")
        op.execute("CREATE INDEX ix_post_search_text_trgm ON post_search USING gin (text gin_trgm_ops)")
        op.execute("DROP INDEX IF EXISTS ix_post_text_trgm")
        op.execute("""
            CREATE FUNCTION post_search_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO post_search_queue (post_id) SELECT id FROM new_posts ON CONFLICT DO NOTHING;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER post_search_enqueue AFTER INSERT ON post REFERENCING NEW TABLE AS new_posts "
                   "FOR EACH STATEMENT EXECUTE FUNCTION post_search_enqueue()")
        op.execute("""
            CREATE FUNCTION post_search_retext() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE post_search SET text = NEW.text WHERE post_id = NEW.id;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER post_search_retext AFTER UPDATE OF text ON post "
                   "FOR EACH ROW EXECUTE FUNCTION post_search_retext()")
        return
    op.execute("DROP TRIGGER IF EXISTS post_search_insert")
    op.execute("DROP TRIGGER IF EXISTS post_search_update")
    op.execute("CREATE TABLE post_search_mark (id INTEGER PRIMARY KEY CHECK (id = 1), "
               "indexed_to INTEGER NOT NULL)")
    op.execute("INSERT INTO post_search_mark (id, indexed_to) SELECT 1, COALESCE(MAX(id), 0) FROM post")
    # Only posts already in the index have an entry to replace when their text changes.
    op.execute("CREATE TRIGGER post_search_update AFTER UPDATE OF text ON post "
               "WHEN old.id <= (SELECT indexed_to FROM post_search_mark WHERE id = 1) BEGIN "
               "INSERT INTO post_search(post_search, rowid, text) VALUES ('delete', old.id, old.text); "
               "INSERT INTO post_search(rowid, text) VALUES (new.id, new.text); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS post_search_retext ON post")
        op.execute("DROP TRIGGER IF EXISTS post_search_enqueue ON post")
        op.execute("DROP FUNCTION IF EXISTS post_search_retext()")
        op.execute("DROP FUNCTION IF EXISTS post_search_enqueue()")
        op.execute("DROP TABLE IF EXISTS post_search_queue")
        op.execute("DROP TABLE IF EXISTS post_search")
        op.execute("CREATE INDEX IF NOT EXISTS ix_post_text_trgm ON post USING gin (text gin_trgm_ops)")
        return
    op.execute("DROP TRIGGER IF EXISTS post_search_update")
    op.execute("INSERT INTO post_search(rowid, text) SELECT id, text FROM post "
               "WHERE id > (SELECT indexed_to FROM post_search_mark WHERE id = 1)")
    op.execute("DROP TABLE post_search_mark")
    op.execute("CREATE TRIGGER post_search_insert AFTER INSERT ON post BEGIN "
               "INSERT INTO post_search(rowid, text) VALUES (new.id, new.text); END")
    op.execute("CREATE TRIGGER post_search_update AFTER UPDATE OF text ON post BEGIN "
               "INSERT INTO post_search(post_search, rowid, text) VALUES ('delete', old.id, old.text); "
               "INSERT INTO post_search(rowid, text) VALUES (new.id, new.text); END")
