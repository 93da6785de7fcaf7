"""A new inbound post on its way through the pipeline: what triage and case placement read,
and what they decide (labels, language, case). The same shape whether the post is still in
memory (ingest in this process) or was read back from the database (a worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.bulk import one_of
from ventanilla.ingest.models import Author, Channel, Post


@dataclass(slots=True)
class PendingPost:
    id: int
    workspace_id: int
    channel_id: int
    author_id: int
    text: str
    language: str | None
    created_at: datetime
    thread_external_id: str | None
    likes: int = 0
    shares: int = 0
    replies: int = 0
    followers: int | None = None
    verified: bool = False
    public: bool = True
    labels: dict[str, Any] | None = None
    case_id: int | None = None

    @property
    def priority(self) -> int:
        return int((self.labels or {}).get("priority", 3))


def load_pending(session: Session, post_ids: list[int]) -> list[PendingPost]:
    """The inbound posts among ``post_ids`` that still lack labels or a case, oldest first."""
    found: list[PendingPost] = []
    for start in range(0, len(post_ids), 1000):
        part = post_ids[start:start + 1000]
        rows = session.execute(
            select(Post.id, Post.workspace_id, Post.channel_id, Post.author_id, Post.text, Post.language,
                   Post.created_at, Post.thread_external_id, Post.likes, Post.shares, Post.replies,
                   Author.followers, Author.verified, Channel.is_public, Post.labels, Post.case_id)
            .join(Author, Author.id == Post.author_id).join(Channel, Channel.id == Post.channel_id).where(
            one_of(session, Post.id, part), Post.direction == "in",
            (Post.labels.is_(None)) | (Post.case_id.is_(None)))).all()
        found += [PendingPost(*row) for row in rows]
    found.sort(key=lambda p: (p.created_at, p.id))
    return found
