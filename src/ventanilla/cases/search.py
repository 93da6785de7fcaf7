"""Free-text search for the inbox, on each engine's substring index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from ventanilla.cases.models import Case
from ventanilla.ingest.models import Author, Post


def like_pattern(query: str) -> str:
    """``query`` as a LIKE pattern matching it anywhere, with its own wildcards escaped."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def case_matches(session: Session, *, workspace_id: int, query: str) -> Any:
    """A condition on Case: one of its posts, or its author's handle, contains ``query``.

    (The subject is the first post's text, so the posts cover it.)"""
    pattern = like_pattern(query.strip())
    if session.get_bind().dialect.name == "sqlite" and len(query.strip()) >= 3:
        # The FTS5 trigram table answers LIKE from its index (case-insensitive).
        post_ids = text("SELECT rowid FROM post_search WHERE text LIKE :pattern ESCAPE '\\'").bindparams(
            pattern=pattern)
        in_posts = Case.id.in_(select(Post.case_id).where(Post.id.in_(post_ids)))
    else:
        in_posts = Case.id.in_(select(Post.case_id).where(Post.workspace_id == workspace_id,
                                                          Post.text.ilike(pattern, escape="\\")))
    return or_(
        in_posts,
        Case.author_id.in_(select(Author.id).where(Author.workspace_id == workspace_id,
                                                   Author.handle.ilike(pattern, escape="\\"))),
    )
