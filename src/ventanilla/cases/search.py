"""Free-text search for the inbox, on each engine's substring index.

The index is fed behind ingest by the ``search.index`` job (see migration 0012); posts it has not
reached yet are scanned, so a search always sees every post.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from ventanilla.cases.models import Case
from ventanilla.ingest.models import Author, Post
from ventanilla.workers.queue import task

INDEX_TASK = "search.index"


def like_pattern(query: str) -> str:
    """``query`` as a LIKE pattern matching it anywhere, with its own wildcards escaped."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def case_matches(session: Session, *, workspace_id: int, query: str) -> Any:
    """A condition on Case: one of its posts, or its author's handle, contains ``query``.

    (The subject is the first post's text, so the posts cover it.)"""
    pattern = like_pattern(query.strip())
    if session.get_bind().dialect.name == "sqlite" and len(query.strip()) >= 3:
        # The FTS5 trigram table answers LIKE from its index (case-insensitive); the posts the
        # index job has not reached yet are scanned.
        post_ids = text(
            "SELECT rowid FROM post_search WHERE text LIKE :pattern ESCAPE '\\' "
            "UNION ALL SELECT id FROM post WHERE id > (SELECT indexed_to FROM post_search_mark WHERE id = 1) "
            "AND text LIKE :pattern ESCAPE '\\'").bindparams(pattern=pattern)
        in_posts = Case.id.in_(select(Post.case_id).where(Post.id.in_(post_ids)))
    elif session.get_bind().dialect.name == "postgresql":
        # pg_trgm's index on post_search; the posts still queued for it are scanned.
        post_ids = text(
            "SELECT post_id FROM post_search WHERE text ILIKE :pattern ESCAPE '\\' "
            "UNION ALL SELECT post.id FROM post_search_queue JOIN post ON post.id = post_search_queue.post_id "
            "WHERE post.text ILIKE :pattern ESCAPE '\\'").bindparams(pattern=pattern)
        in_posts = Case.id.in_(select(Post.case_id).where(Post.workspace_id == workspace_id, Post.id.in_(post_ids)))
    else:  # short queries: a scan is as fast as the index
        in_posts = Case.id.in_(select(Post.case_id).where(Post.workspace_id == workspace_id,
                                                          Post.text.ilike(pattern, escape="\\")))
    return or_(
        in_posts,
        Case.author_id.in_(select(Author.id).where(Author.workspace_id == workspace_id,
                                                   Author.handle.ilike(pattern, escape="\\"))),
    )


INDEX_BATCH = 20000


@task(INDEX_TASK)
def index_task(session: Session, payload: dict[str, Any]) -> None:
    """The periodic job: bring the search index up to date."""
    index_all(session, limit=int(payload.get("limit", INDEX_BATCH)))


def index_all(session: Session, *, limit: int = INDEX_BATCH) -> int:
    """Bring the search index up to date, ``limit`` posts at a time; returns how many were added."""
    total = 0
    while done := index_pending(session, limit=limit):
        total += done
    return total


def index_pending(session: Session, *, limit: int = INDEX_BATCH) -> int:
    """Add up to ``limit`` posts the search index has not seen; returns how many."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return int(session.execute(text(
            "WITH taken AS (DELETE FROM post_search_queue WHERE post_id IN (SELECT post_id FROM post_search_queue "
            "ORDER BY post_id LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING post_id), "
            "added AS (INSERT INTO post_search (post_id, text) SELECT post.id, post.text FROM post "
            "JOIN taken ON taken.post_id = post.id "
            "ON CONFLICT (post_id) DO UPDATE SET text = EXCLUDED.text RETURNING 1) "
            "SELECT (SELECT COUNT(*) FROM taken)"), {"n": limit}).scalar_one())
    mark = int(session.execute(text("SELECT indexed_to FROM post_search_mark WHERE id = 1")).scalar_one())
    upto = session.execute(text("SELECT MAX(id) FROM (SELECT id FROM post WHERE id > :mark ORDER BY id LIMIT :n)"),
                           {"mark": mark, "n": limit}).scalar()
    if upto is None:
        return 0
    session.execute(text("INSERT INTO post_search(rowid, text) SELECT id, text FROM post "
                         "WHERE id > :mark AND id <= :upto"), {"mark": mark, "upto": upto})
    done = session.execute(text("SELECT COUNT(*) FROM post WHERE id > :mark AND id <= :upto"),
                           {"mark": mark, "upto": upto}).scalar_one()
    session.execute(text("UPDATE post_search_mark SET indexed_to = :upto WHERE id = 1"), {"upto": upto})
    return int(done)
