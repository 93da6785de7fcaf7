"""Accepting posts: dedup by network + external id, authors upserted, nothing written twice.

Writes go through Core ``executemany`` and ids are read back by natural keys: per-row
RETURNING would make SQLite insert one row per statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from ventanilla.db import utcnow
from ventanilla.ingest.models import Author, Channel, Post
from ventanilla.ingest.schema import IncomingPost

CHUNK = 500
POST_TABLE = cast(Table, Post.__table__)
AUTHOR_TABLE = cast(Table, Author.__table__)


@dataclass(slots=True)
class AcceptResult:
    """What `accept` did: ids of the posts it stored, and how many it already had."""

    new_post_ids: list[int] = field(default_factory=list)
    duplicates: int = 0


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _author_ids(session: Session, workspace_id: int, handles: Sequence[str]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for part in _chunks(handles):
        rows = session.execute(select(Author.id, Author.network, Author.handle)
                               .where(Author.workspace_id == workspace_id, Author.handle.in_(part))).all()
        found.update({(r.network, r.handle): r.id for r in rows})
    return found


def _upsert_authors(session: Session, workspace_id: int, posts: Sequence[IncomingPost]) -> dict[tuple[str, str], int]:
    latest: dict[tuple[str, str], IncomingPost] = {}
    for post in posts:
        latest[(post.network, post.author.handle)] = post
    handles = sorted({h for _, h in latest})
    existing = _author_ids(session, workspace_id, handles)
    now = utcnow()
    missing = [k for k in latest if k not in existing]
    if missing:
        session.execute(AUTHOR_TABLE.insert(), [
            {"workspace_id": workspace_id, "network": net, "handle": handle,
             "display_name": latest[(net, handle)].author.display_name,
             "followers": latest[(net, handle)].author.followers,
             "verified": latest[(net, handle)].author.verified,
             "first_seen_at": now, "last_seen_at": now}
            for net, handle in missing
        ])
        existing.update(_author_ids(session, workspace_id, sorted({h for _, h in missing})))
    # Keep what the network now says about known authors (followers change over time).
    refresh = [{"aid": existing[k], "seen": now, "followers": p.author.followers, "verified": p.author.verified}
               for k, p in latest.items() if k not in missing and p.author.followers is not None]
    if refresh:
        session.execute(
            update(AUTHOR_TABLE).where(AUTHOR_TABLE.c.id == bindparam("aid"))
            .values(last_seen_at=bindparam("seen"), followers=bindparam("followers"),
                    verified=bindparam("verified")),
            refresh,
        )
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
    external_ids = [eid for _, eid in unique]
    seen: set[tuple[str, str]] = set()
    for part in _chunks(external_ids):
        rows = session.execute(select(Post.network, Post.external_id).where(
            Post.workspace_id == channel.workspace_id, Post.external_id.in_(part))).all()
        seen.update((r.network, r.external_id) for r in rows)
    fresh = [p for k, p in unique.items() if k not in seen]
    result.duplicates += len(unique) - len(fresh)
    if not fresh:
        return result
    authors = _upsert_authors(session, channel.workspace_id, fresh)
    now = utcnow()
    session.execute(POST_TABLE.insert(), [
        {
            "workspace_id": channel.workspace_id, "channel_id": channel.id,
            "author_id": authors[(p.network, p.author.handle)], "case_id": None,
            "network": p.network, "external_id": p.external_id, "direction": "in",
            "kind": p.kind.value, "text": p.text, "language": p.language, "url": p.url,
            "created_at": p.created_at, "received_at": now,
            "parent_external_id": p.parent_external_id,
            "thread_external_id": p.thread_external_id or p.parent_external_id,
            "likes": p.likes, "shares": p.shares, "replies": p.replies, "labels": None, "raw": p.raw,
        }
        for p in fresh
    ])
    ids: dict[tuple[str, str], int] = {}
    for part in _chunks([p.external_id for p in fresh]):
        stored = session.execute(select(Post.id, Post.network, Post.external_id).where(
            Post.workspace_id == channel.workspace_id, Post.external_id.in_(part))).all()
        ids.update({(r.network, r.external_id): r.id for r in stored})
    result.new_post_ids = [ids[(p.network, p.external_id)] for p in fresh]
    return result
