"""Signed inbound webhooks and the JSON post-ingest endpoint (`/api/v1`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.accounts.service import Principal
from ventanilla.ingest.channels import get_channel, signature_valid
from ventanilla.ingest.models import Channel
from ventanilla.ingest.schema import IncomingPost
from ventanilla.ingest.service import accept
from ventanilla.web.deps import DbSession, require_api
from ventanilla.workers.pipeline import hand_over

router = APIRouter(prefix="/api/v1", tags=["ingest"])
MAX_BODY = 5 * 1024 * 1024
MAX_POSTS = 1000


class Rejected(BaseModel):
    index: int
    reason: str


class IngestResult(BaseModel):
    new: int
    duplicate: int
    rejected: list[Rejected]


def _posts_from(payload: Any, network: str) -> tuple[list[IncomingPost], list[Rejected]]:
    items = payload.get("posts") if isinstance(payload, dict) and "posts" in payload else payload
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise HTTPException(status_code=400, detail="body must be a post, a list of posts, or {\"posts\": [...]}")
    if len(items) > MAX_POSTS:
        raise HTTPException(status_code=413, detail=f"at most {MAX_POSTS} posts per delivery")
    posts: list[IncomingPost] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(Rejected(index=index, reason="each post must be a JSON object"))
            continue
        item = {k: v for k, v in item.items() if k != "channel"}
        item.setdefault("network", network)
        try:
            posts.append(IncomingPost.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            rejected.append(Rejected(index=index, reason=f"{where}: {first.get('msg')}"))
    return posts, rejected


def _store(session: Session, channel: Channel, posts: list[IncomingPost], rejected: list[Rejected]) -> IngestResult:
    result = accept(session, channel=channel, posts=posts)
    session.commit()
    hand_over(result.new_post_ids)
    return IngestResult(new=len(result.new_post_ids), duplicate=result.duplicates, rejected=rejected)


def _find_channel(session: Session, channel: str) -> Channel | None:
    if channel.isdigit():
        return session.get(Channel, int(channel))
    found = list(session.scalars(select(Channel).where(Channel.slug == channel).limit(2)))
    return found[0] if len(found) == 1 else None


@router.post("/webhooks/{channel}", response_model=IngestResult,
             responses={401: {"description": "missing or wrong signature; nothing stored"}})
async def webhook(
    channel: str, request: Request, session: DbSession,
    x_ventanilla_signature: Annotated[str | None, Header()] = None,
) -> IngestResult:
    """Receive posts pushed by a bridge or network, signed with the channel's secret.

    The body is one post, a list, or ``{"posts": [...]}`` in the native schema; the header
    ``X-Ventanilla-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` must match. A repeated
    delivery is accepted and adds nothing.
    """
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status_code=413, detail="delivery too large")
    found = _find_channel(session, channel)
    # Same answer for unknown channel and bad signature: don't reveal which channels exist.
    if found is None or not signature_valid(found, body, x_ventanilla_signature):
        raise HTTPException(status_code=401, detail="missing or wrong signature")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(status_code=400, detail=f"body is not JSON: {exc}") from exc
    posts, rejected = _posts_from(payload, found.network)
    return _store(session, found, posts, rejected)


@router.post("/channels/{channel_slug}/posts", response_model=IngestResult)
def ingest_posts(
    channel_slug: str, payload: list[dict[str, Any]], session: DbSession,
    principal: Annotated[Principal, Depends(require_api("lead"))],
) -> IngestResult:
    """Ingest posts as an authenticated lead or admin (same schema as webhooks)."""
    channel = get_channel(session, workspace_id=principal.workspace_id, slug=channel_slug)
    if channel is None:
        raise HTTPException(status_code=404, detail="no such channel")
    posts, rejected = _posts_from(payload, channel.network)
    return _store(session, channel, posts, rejected)
