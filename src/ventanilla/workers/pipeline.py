"""What happens to newly accepted posts: triage, then a place in a case."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ventanilla.cases.service import attach_posts
from ventanilla.config import get_settings
from ventanilla.workers.queue import get_queue, task

PROCESS_POSTS = "posts.process"


@task(PROCESS_POSTS)
def process_posts(session: Session, payload: dict[str, Any]) -> None:
    """Label the posts (when triage is on) and open or extend their cases. Idempotent."""
    post_ids = [int(i) for i in payload.get("post_ids", [])]
    if get_settings().triage_on_ingest:
        from ventanilla.triage.service import label_posts

        label_posts(session, post_ids)
    attach_posts(session, post_ids)


def hand_over(post_ids: list[int], *, batch: int = 2000) -> None:
    """Queue freshly committed posts for processing, in batches."""
    queue = get_queue()
    for start in range(0, len(post_ids), batch):
        queue.enqueue(PROCESS_POSTS, {"post_ids": post_ids[start:start + batch]})
