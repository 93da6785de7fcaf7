"""Triage applied to stored posts: labels saved on each post, priority for its case."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ventanilla.ingest.models import Post

log = logging.getLogger(__name__)


def label_posts(session: Session, post_ids: Sequence[int]) -> int:
    """Label the posts that have no labels yet; returns how many were labelled."""
    if not post_ids:
        return 0
    try:
        from ventanilla.triage.model import load_triager

        triager = load_triager()
    except (ImportError, FileNotFoundError) as exc:
        log.warning("triage model not available, posts stay unlabelled: %s", exc)
        return 0
    rows = session.execute(select(Post.id, Post.text, Post.language)
                           .where(Post.id.in_(post_ids), Post.labels.is_(None))).all()
    if not rows:
        return 0
    results = triager.predict([r.text for r in rows])
    updates = []
    for row, result in zip(rows, results, strict=True):
        labels = {
            "language": result.language.value,
            "complaint": result.complaint.value,
            "sentiment": result.sentiment.value,
            "reason": result.reason.value if result.reason else None,
            "offensive": result.offensive.value,
            "intent": result.intent.value,
            "model_version": result.model_version,
        }
        updates.append({"id": row.id, "labels": labels, "language": row.language or result.language.value})
    session.execute(update(Post), updates)
    return len(updates)
