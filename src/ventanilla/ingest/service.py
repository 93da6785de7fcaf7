"""Accepting posts: dedup by network + external id, authors upserted, nothing written twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ventanilla.db import utcnow
from ventanilla.ingest.models import Author, Channel, Post
from ventanilla.ingest.schema import IncomingPost


@dataclass(slots=True)
class AcceptResult:
    """What `accept` did: ids of the posts it stored, and how many it already had."""

    new_post_ids: list[int] = field(default_factory=list)
    duplicates: int = 0


def _upsert_authors(session: Session, workspace_id: int, posts: Sequence[IncomingPost]) -> dict[tuple[str, str], int]:
    keys = {(p.network, p.author.handle) for p in posts}
    handles = {h for _, h in keys}
    existing: dict[tuple[str, str], int] = {}
    handle_list = list(handles)
    for start in range(0, len(handle_list), 500):
        rows = session.execute(
            select(Author.id, Author.network, Author.handle).where(
                Author.workspace_id == workspace_id, Author.handle.in_(handle_list[start:start + 500]))
        ).all()
        existing.update({(r.network, r.handle): r.id for r in rows})
    now = utcnow()
    latest: dict[tuple[str, str], IncomingPost] = {}
    for post in posts:
        latest[(post.network, post.author.handle)] = post
    missing = [k for k in keys if k not in existing]
    if missing:
        rows_to_insert = [
            {
                "workspace_id": workspace_id, "network": net, "handle": handle,
                "display_name": latest[(net, handle)].author.display_name,
                "followers": latest[(net, handle)].author.followers,
                "verified": latest[(net, handle)].author.verified,
                "first_seen_at": now, "last_seen_at": now,
            }
            for net, handle in missing
        ]
        result = session.execute(insert(Author).returning(Author.id, Author.network, Author.handle,
                                                          sort_by_parameter_order=True), rows_to_insert)
        existing.update({(r.network, r.handle): r.id for r in result})
    # Refresh what the network now says about known authors (followers change).
    refresh = [
        {"id": existing[k], "last_seen_at": now, "followers": latest[k].author.followers,
         "verified": latest[k].author.verified}
        for k in keys if k not in missing and latest[k].author.followers is not None
    ]
    if refresh:
        session.execute(update(Author), refresh)
    return existing


def accept(session: Session, *, channel: Channel, posts: Sequence[IncomingPost]) -> AcceptResult:
    """Store the posts not seen before (idempotent on network + external id), in one batch."""
    result = AcceptResult()
    unique: dict[tuple[str, str], IncomingPost] = {}
    for post in posts:
        key = (post.network, post.external_id)
        if key in unique:
            result.duplicates += 1
        else:
            unique[key] = post
    if not unique:
        return result
    ids = [eid for _, eid in unique]
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Post.network, Post.external_id).where(
                Post.workspace_id == channel.workspace_id, Post.external_id.in_(ids[start:start + 500]))
        ).all()
        seen.update((r.network, r.external_id) for r in rows)
    fresh = [p for k, p in unique.items() if k not in seen]
    result.duplicates += len(unique) - len(fresh)
    if not fresh:
        return result
    authors = _upsert_authors(session, channel.workspace_id, fresh)
    now = utcnow()
    post_rows: list[dict[str, Any]] = [
        {
            "workspace_id": channel.workspace_id,
            "channel_id": channel.id,
            "author_id": authors[(p.network, p.author.handle)],
            "network": p.network,
            "external_id": p.external_id,
            "direction": "in",
            "kind": p.kind.value,
            "text": p.text,
            "language": p.language,
            "url": p.url,
            "created_at": p.created_at,
            "received_at": now,
            "parent_external_id": p.parent_external_id,
            "thread_external_id": p.thread_external_id or p.parent_external_id,
            "likes": p.likes,
            "shares": p.shares,
            "replies": p.replies,
            "raw": p.raw,
        }
        for p in fresh
    ]
    inserted = session.execute(insert(Post).returning(Post.id, sort_by_parameter_order=True), post_rows)
    result.new_post_ids = [r.id for r in inserted]
    return result
