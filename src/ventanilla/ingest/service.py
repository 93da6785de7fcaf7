"""Accepting posts: dedup by network + external id, authors upserted, nothing written twice.

New rows get ids reserved up front (`ventanilla.bulk.reserve_ids`) and go in with one bulk write
per table (COPY on PostgreSQL): nothing is read back, and with ``process`` each post is written
once, already labelled and in its case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from ventanilla.bulk import bulk_insert, lookup, refresh_statistics, reserve_ids
from ventanilla.db import utcnow
from ventanilla.ingest.models import Author, Channel, Post, split_labels
from ventanilla.ingest.pending import PendingPost
from ventanilla.ingest.schema import IncomingPost

if TYPE_CHECKING:
    from ventanilla.triage.service import Prediction

CHUNK = 500
# The session.info key where `accept` leaves the newest post id its transaction stored (a crisis
# scan beside an import feeds up to it, as a scan right after that commit would).
NEWEST_POST = "ingest.newest_post_id"
AuthorFacts = tuple[int, int | None, bool]  # id, followers, verified
POST_TABLE = cast(Table, Post.__table__)
AUTHOR_TABLE = cast(Table, Author.__table__)


@dataclass(slots=True)
class AcceptResult:
    """What `accept` did: ids of the posts it stored, and how many it already had."""

    new_post_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    processed: bool = False  # labelled and placed in cases already (``accept(process=True)``)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


AUTHOR_COLUMNS = ("id", "workspace_id", "network", "handle", "display_name", "followers", "verified",
                  "first_seen_at", "last_seen_at")
POST_COLUMNS = ("id", "workspace_id", "channel_id", "author_id", "case_id", "network", "external_id", "direction",
                "kind", "text", "language", "url", "created_at", "received_at", "parent_external_id",
                "thread_external_id", "likes", "shares", "replies", "labels", "label_details", "raw")


def _upsert_authors(session: Session, workspace_id: int,
                    posts: Sequence[IncomingPost]) -> dict[tuple[str, str], AuthorFacts]:
    """Author id, followers and verification for each (network, handle) of ``posts``."""
    latest: dict[tuple[str, str], IncomingPost] = {}
    for post in posts:
        latest[(post.network, post.author.handle)] = post
    known = _authors(session, workspace_id, list(latest))
    now = utcnow()
    missing = [k for k in latest if k not in known]
    fresh = set(missing)
    ids = reserve_ids(session, AUTHOR_TABLE, len(missing))
    rows = []
    for (net, handle), author_id in zip(missing, ids, strict=True):
        author = latest[(net, handle)].author
        rows.append((author_id, workspace_id, net, handle, author.display_name, author.followers,
                     author.verified, now, now))
        known[(net, handle)] = (author_id, author.followers, author.verified)
    bulk_insert(session, AUTHOR_TABLE, AUTHOR_COLUMNS, rows)
    refresh_statistics(session, AUTHOR_TABLE, len(rows))
    # Keep what the network now says about known authors (followers change over time).
    refresh = []
    for key, post in latest.items():
        if key in fresh or post.author.followers is None:
            continue
        author_id = known[key][0]
        refresh.append({"aid": author_id, "seen": now, "followers": post.author.followers,
                        "verified": post.author.verified})
        known[key] = (author_id, post.author.followers, post.author.verified)
    if refresh:
        session.execute(
            update(AUTHOR_TABLE).where(AUTHOR_TABLE.c.id == bindparam("aid"))
            .values(last_seen_at=bindparam("seen"), followers=bindparam("followers"),
                    verified=bindparam("verified")),
            refresh,
        )
    return known


def _by_network(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    # Lookups name the network too, so they use the whole unique index (workspace, network, key).
    grouped: dict[str, list[str]] = {}
    for network, key in keys:
        grouped.setdefault(network, []).append(key)
    return grouped


def _authors(session: Session, workspace_id: int,
             keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], AuthorFacts]:
    found: dict[tuple[str, str], AuthorFacts] = {}
    for network, handles in _by_network(keys).items():
        for part in _chunks(handles):
            rows = lookup(session, (Author.id, Author.network, Author.handle, Author.followers, Author.verified),
                          Author.handle, part, Author.workspace_id == workspace_id, Author.network == network)
            found.update({(r.network, r.handle): (r.id, r.followers, bool(r.verified)) for r in rows})
    return found


def accept(session: Session, *, channel: Channel, posts: Sequence[IncomingPost], process: bool = False,
           predicted: Prediction | None = None) -> AcceptResult:
    """Store the posts not seen before (idempotent on network + external id), in one batch.

    With ``process`` the new posts are labelled and placed in cases before they are written
    (the pipeline's work, done here instead of by a worker), so each row is written once.
    ``predicted``: the triage model's output for the batch's texts, worked out ahead; used
    only if every post is new (it is the output for exactly the texts labelled).
    """
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
    seen: set[tuple[str, str]] = set()
    for network, external_ids in _by_network(unique).items():
        for part in _chunks(external_ids):
            rows = lookup(session, (Post.network, Post.external_id), Post.external_id, part,
                          Post.workspace_id == channel.workspace_id, Post.network == network)
            seen.update((r.network, r.external_id) for r in rows)
    fresh = [p for k, p in unique.items() if k not in seen]
    result.duplicates += len(unique) - len(fresh)
    if not fresh:
        return result
    authors = _upsert_authors(session, channel.workspace_id, fresh)
    ids = reserve_ids(session, POST_TABLE, len(fresh))
    pending = [
        PendingPost(id=post_id, workspace_id=channel.workspace_id, channel_id=channel.id,
                    author_id=author[0], text=p.text, language=p.language, created_at=p.created_at,
                    thread_external_id=p.thread_external_id or p.parent_external_id, likes=p.likes,
                    shares=p.shares, replies=p.replies, followers=author[1], verified=author[2],
                    public=channel.is_public)
        for p, post_id in zip(fresh, ids, strict=True) for author in (authors[(p.network, p.author.handle)],)
    ]
    placement = None
    if process:
        from ventanilla.workers.pipeline import prepare

        placement = prepare(session, pending, predicted)
    now = utcnow()
    bulk_insert(session, POST_TABLE, POST_COLUMNS, [
        (q.id, q.workspace_id, q.channel_id, q.author_id, q.case_id, p.network, p.external_id, "in",
         p.kind.value, p.text, q.language, p.url, p.created_at, now, p.parent_external_id, q.thread_external_id,
         p.likes, p.shares, p.replies, *split_labels(q.labels), p.raw)
        for p, q in zip(fresh, pending, strict=True)
    ])
    refresh_statistics(session, POST_TABLE, len(fresh))
    if placement is not None:
        from ventanilla.workers.pipeline import finish

        finish(session, placement)
    result.new_post_ids = ids
    result.processed = process
    # What a crisis scan right after this commit would read up to (see `NEWEST_POST`).
    session.info[NEWEST_POST] = max(ids)
    return result
