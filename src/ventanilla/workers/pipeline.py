"""What happens to newly accepted posts: triage, then a place in a case.

Two ways in, one set of steps (`prepare`, then `finish`):
- a worker gets the ids of stored posts (`process_posts`) and writes labels and case back;
- ingest running in this process hands over the posts before they are stored
  (`accept(..., process=True)`), so each post is written once, already labelled and placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from ventanilla.cases.service import Placement, announce, place_posts
from ventanilla.config import get_settings
from ventanilla.ingest.models import Post, split_labels
from ventanilla.ingest.pending import PendingPost, load_pending
from ventanilla.workers.queue import InlineQueue, get_queue, task

if TYPE_CHECKING:
    from ventanilla.triage.service import Prediction

PROCESS_POSTS = "posts.process"


def prepare(session: Session, posts: Sequence[PendingPost], predicted: Prediction | None = None) -> Placement:
    """Label the posts that have no labels (when triage is on) and place them in cases.
    ``predicted``: the model's output for these posts' texts, if worked out ahead."""
    if get_settings().triage_on_ingest:
        from ventanilla.triage.service import label_pending

        label_pending(session, [p for p in posts if p.labels is None], predicted=predicted)
    return place_posts(session, posts)


def finish(session: Session, placement: Placement) -> None:
    """Once the posts are written: let the other domains react to the cases."""
    announce(session, placement)


@task(PROCESS_POSTS)
def process_posts(session: Session, payload: dict[str, Any]) -> None:
    """Label the stored posts and open or extend their cases. Idempotent."""
    posts = load_pending(session, [int(i) for i in payload.get("post_ids", [])])
    if not posts:
        return
    unlabelled = {p.id for p in posts if p.labels is None}
    placement = prepare(session, posts)
    table = cast(Table, Post.__table__)
    labelled = [{"pid": p.id, "labels": values, "details": details, "language": p.language, "cid": p.case_id}
                for p in posts if p.id in unlabelled for values, details in (split_labels(p.labels),)]
    if labelled:
        session.execute(update(table).where(table.c.id == bindparam("pid")).values(
            labels=bindparam("labels"), label_details=bindparam("details"), language=bindparam("language"),
            case_id=bindparam("cid")), labelled)
    placed = [{"pid": p.id, "language": p.language, "cid": p.case_id}
              for p in posts if p.id not in unlabelled and p.id in placement.case_of]
    if placed:  # labelled before (their labels are stored), placed in a case now
        session.execute(update(table).where(table.c.id == bindparam("pid")).values(
            language=bindparam("language"), case_id=bindparam("cid")), placed)
    finish(session, placement)


def processes_inline() -> bool:
    """Whether new posts are processed in this process, right as they are accepted."""
    return isinstance(get_queue(), InlineQueue)


def hand_over(post_ids: list[int], *, batch: int = 2000) -> None:
    """Queue freshly committed posts for processing, in batches."""
    queue = get_queue()
    for start in range(0, len(post_ids), batch):
        queue.enqueue(PROCESS_POSTS, {"post_ids": post_ids[start:start + batch]})
