"""X items (v2 tweets and DM events, v1.1 Account Activity deliveries) as IncomingPost."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ventanilla.ingest.connectors.base import ConnectorError, FetchResult, Skipped
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

NETWORK = "x"


def users_by_id(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``includes.users`` of a v2 answer, by id."""
    users = (data.get("includes") or {}).get("users") or []
    return {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}


def _author(user_id: str, users: Mapping[str, Mapping[str, Any]]) -> IncomingAuthor:
    user = users.get(user_id)
    if user is None:
        # Not expanded by X: keep the post under its numeric id rather than invent a name.
        return IncomingAuthor(handle=user_id)
    metrics = user.get("public_metrics") or {}
    return IncomingAuthor(
        handle=str(user.get("username") or user_id),
        display_name=(str(user["name"])[:255] if user.get("name") else None),
        followers=metrics.get("followers_count"),
        verified=bool(user.get("verified", False)),
    )


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("created_at missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def normalise_tweet(
    item: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], brand: str | None = None
) -> IncomingPost:
    """A v2 tweet object (with ``includes.users`` by id) as an ``IncomingPost``."""
    tweet_id = str(item["id"])
    if not tweet_id.isdigit():
        raise ValueError(f"tweet id {tweet_id!r} is not numeric")
    author_id = str(item["author_id"])
    text = item["text"]
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    parent = None
    for ref in item.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            parent = str(ref["id"])
    metrics = item.get("public_metrics") or {}
    author = _author(author_id, users)
    return IncomingPost(
        network=NETWORK,
        external_id=tweet_id,
        author=author,
        text=text,
        kind=PostKind.reply if parent else PostKind.mention,
        created_at=_time(item.get("created_at")),
        language=(item.get("lang") or None),
        url=f"https://x.com/{author.handle}/status/{tweet_id}",
        parent_external_id=parent,
        thread_external_id=str(item.get("conversation_id") or tweet_id),
        likes=int(metrics.get("like_count", 0)),
        shares=int(metrics.get("retweet_count", 0)) + int(metrics.get("quote_count", 0)),
        replies=int(metrics.get("reply_count", 0)),
        brand=brand,
        raw=dict(item),
    )


def normalise_dm(
    item: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], brand: str | None = None
) -> IncomingPost:
    """A v2 ``MessageCreate`` DM event as an ``IncomingPost`` (kind direct_message)."""
    text = item["text"]
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    return IncomingPost(
        network=NETWORK,
        external_id=str(item["id"]),
        author=_author(str(item["sender_id"]), users),
        text=text,
        kind=PostKind.direct_message,
        created_at=_time(item.get("created_at")),
        thread_external_id=(str(item["dm_conversation_id"])
                            if item.get("dm_conversation_id") else None),
        brand=brand,
        raw=dict(item),
    )


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """One recorded item, ``{"tweet": ..., "users": [...]}`` or ``{"dm": ...}`` (bench)."""
    users = {str(u["id"]): u for u in item.get("users") or []}
    if "dm" in item:
        return normalise_dm(item["dm"], users)
    return normalise_tweet(item["tweet"], users)


def _v1_time(value: str) -> datetime:
    return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")


def normalise_v1_tweet(item: Mapping[str, Any], brand: str | None = None) -> IncomingPost:
    """A v1.1 tweet (as Account Activity delivers them) as an ``IncomingPost``."""
    user = item["user"]
    tweet_id = str(item["id_str"])
    text = (item.get("extended_tweet") or {}).get("full_text") or item["text"]
    parent = item.get("in_reply_to_status_id_str")
    handle = str(user["screen_name"])
    return IncomingPost(
        network=NETWORK,
        external_id=tweet_id,
        author=IncomingAuthor(
            handle=handle,
            display_name=user.get("name"),
            followers=user.get("followers_count"),
            verified=bool(user.get("verified", False)),
        ),
        text=text,
        kind=PostKind.reply if parent else PostKind.mention,
        created_at=_v1_time(item["created_at"]),
        language=item.get("lang") or None,
        url=f"https://x.com/{handle}/status/{tweet_id}",
        parent_external_id=parent,
        likes=int(item.get("favorite_count") or 0),
        shares=int(item.get("retweet_count") or 0) + int(item.get("quote_count") or 0),
        replies=int(item.get("reply_count") or 0),
        brand=brand,
        raw=dict(item),
    )


def parse_account_activity(
    body: bytes, *, own_user_id: str | None = None, brand: str | None = None
) -> FetchResult:
    """Normalise an Account Activity API delivery; our own tweets/DMs are left out."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ConnectorError(f"x webhook: body is not JSON: {exc}", retryable=False) from exc
    if not isinstance(payload, dict):
        raise ConnectorError("x webhook: body is not a JSON object", retryable=False)
    own = own_user_id or payload.get("for_user_id")
    posts: list[IncomingPost] = []
    skipped: list[Skipped] = []
    for item in payload.get("tweet_create_events") or []:
        try:
            if str((item.get("user") or {}).get("id_str")) == own:
                continue
            posts.append(normalise_v1_tweet(item, brand))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(item, f"x webhook tweet: {exc!r}"))
    users = payload.get("users") or {}
    for event in payload.get("direct_message_events") or []:
        try:
            if event.get("type") != "message_create":
                continue
            create = event["message_create"]
            sender = str(create["sender_id"])
            if sender == own:
                continue
            user = users.get(sender) or {}
            posts.append(IncomingPost(
                network=NETWORK,
                external_id=str(event["id"]),
                author=IncomingAuthor(
                    handle=str(user.get("screen_name") or sender),
                    display_name=user.get("name"),
                    followers=user.get("followers_count"),
                    verified=bool(user.get("verified", False)),
                ),
                text=create["message_data"]["text"],
                kind=PostKind.direct_message,
                created_at=datetime.fromtimestamp(int(event["created_timestamp"]) / 1000, UTC),
                brand=brand,
                raw=dict(event),
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(event, f"x webhook dm: {exc!r}"))
    return FetchResult(posts=posts, cursor=None, more=False, skipped=skipped)
