"""YouTube Data API v3: comments on the channel's videos in, comment replies out.

Plain ``httpx`` rather than ``google-api-python-client``: that library is in maintenance
mode, runs on ``httplib2`` (not thread-safe, no shared client or timeouts of ours) and needs
a discovery document; we call three endpoints (``channels``, ``commentThreads``,
``comments``) and need the raw status and error reason anyway to tell a spent quota from a
refused token.

Cursor (JSON): the mark (newest ``publishedAt`` of the last finished sweep and the comment
ids seen at that second), ``page`` (the ``nextPageToken`` of a sweep in progress) and
``top``. ``commentThreads?allThreadsRelatedToChannelId=...&order=time`` is newest first, so
a sweep reads pages until it meets a thread at or before the mark; the mark moves only when
the sweep ends, so a restart between pages resumes at ``page``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    CredentialStore,
    FetchResult,
    OutgoingReply,
    RateLimited,
    SentReceipt,
    Skipped,
)
from ventanilla.ingest.connectors.http import raise_for_status, retry_after_from_headers
from ventanilla.ingest.connectors.oauth import OAuth2Refresh
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

NETWORK = "youtube"
DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "userRateLimitExceeded",
                 "rateLimitExceeded"}
AUTH_REASONS = {"authError", "forbidden", "insufficientPermissions"}


class YouTubeConnector:
    """A YouTube channel (``Connector``; YouTube has no comment webhooks).

    settings: ``channel_id``, ``page_size`` (1..100), ``backfill_pages`` (default 1),
    ``brand``, ``token_url`` (Google's token endpoint; ``base_url`` + ``/token`` when a
    simulator is given). credentials: ``access_token`` (OAuth, scope youtube.force-ssl;
    needed to reply; one hour) with ``refresh_token``, ``client_id`` and ``client_secret`` to
    renew it, and/or ``api_key`` (enough to read public comments). Renewed tokens go to
    ``credential_store``.
    """

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, str],
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = dict(settings)
        self.credentials = dict(credentials)
        self.channel_id = str(self.settings["channel_id"])
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.http = http or httpx.Client(timeout=30.0)
        self.page_size = max(1, min(100, int(self.settings.get("page_size", 100))))
        self.backfill_pages = int(self.settings.get("backfill_pages", 1))
        self.brand: str | None = self.settings.get("brand")
        self.credential_store: CredentialStore | None = None
        token_url = self.settings.get("token_url") or (
            f"{base_url.rstrip('/')}/token" if base_url else GOOGLE_TOKEN_URL)
        self._oauth2 = OAuth2Refresh(
            network="youtube", http=self.http, token_url=str(token_url), credentials=self.credentials,
            client_auth="body", store=lambda: self.credential_store,
        )

    def _request(
        self, method: str, path: str, params: dict[str, Any],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not self.credentials.get("access_token") and not self._oauth2.available():
            return self._request_once(method, path, params, body)
        # Google access tokens last an hour: renew with the refresh token and retry once.
        return self._oauth2.authorised(lambda: self._request_once(method, path, params, body))

    def _request_once(
        self, method: str, path: str, params: dict[str, Any],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        headers = {}
        params = dict(params)
        if self.credentials.get("access_token") or self._oauth2.available():
            if not self.credentials.get("access_token"):
                self._oauth2.refresh()  # a refresh token alone: get the first access token
            headers["authorization"] = f"Bearer {self.credentials['access_token']}"
        elif self.credentials.get("api_key") and method == "GET":
            params["key"] = self.credentials["api_key"]
        else:
            raise AuthError("youtube: no access_token (or api_key for reading) in credentials")
        try:
            response = self.http.request(
                method, self.base_url + path, params=params, json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ConnectorError(f"youtube: {exc!r}", retryable=True) from exc
        if response.status_code >= 400:
            _raise_youtube_error(response)
        try:
            data = response.json()
        except ValueError as exc:
            raise ConnectorError("youtube: answer is not JSON", retryable=True) from exc
        if not isinstance(data, dict):
            raise ConnectorError("youtube: answer is not a JSON object", retryable=True)
        return data

    def test(self) -> str:
        """Check the credentials; return the channel's title."""
        params: dict[str, Any] = {"part": "snippet"}
        if self.credentials.get("access_token") or self._oauth2.available():
            params["mine"] = "true"
        else:
            params["id"] = self.channel_id
        items = self._request("GET", "/channels", params).get("items") or []
        if not items:
            raise AuthError("youtube: the credentials own no channel")
        return str(items[0]["snippet"]["title"])

    def fetch(self, cursor: str | None) -> FetchResult:
        """Read one page of comment threads on the channel's videos (newest first)."""
        state = _load_cursor(cursor)
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": self.channel_id,
            "order": "time",
            "maxResults": self.page_size,
            "textFormat": "plainText",
        }
        if state.get("page"):
            params["pageToken"] = state["page"]
        data = self._request("GET", "/commentThreads", params)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        reached_old = False
        for thread in data.get("items") or []:
            try:
                comments = normalise_thread(thread, self.brand)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(thread, f"youtube thread: {exc!r}"))
                continue
            top_level = comments[0]
            if not _is_new(state, top_level.created_at, top_level.external_id):
                reached_old = True
            for comment in comments:
                if not _is_new(state, comment.created_at, comment.external_id):
                    continue
                _note(state, comment.created_at, comment.external_id)
                if comment.raw.get("authorChannelId") == self.channel_id:
                    continue  # our own replies
                posts.append(comment)
        state["pages"] = int(state.get("pages", 0)) + 1
        token = data.get("nextPageToken")
        first_sync = state.get("mark") is None
        if token and not reached_old and not (first_sync and state["pages"] >= self.backfill_pages):
            state["page"] = token
            return FetchResult(posts, json.dumps(state), more=True, skipped=skipped)
        _finish(state)
        return FetchResult(posts, json.dumps(state), more=False, skipped=skipped)

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Reply in a comment thread (``comments.insert`` with the top-level comment id).

        YouTube has no private messages and no idempotency key: exactly-once comes from the
        outbox recording "sending" before this call and the receipt after.
        """
        if reply.private:
            raise ConnectorError("youtube: there are no private messages", retryable=False)
        parent = reply.thread_external_id or reply.in_reply_to_external_id
        if not parent:
            raise ConnectorError("youtube: a reply needs the thread's comment id", retryable=False)
        data = self._request(
            "POST", "/comments", {"part": "snippet"},
            {"snippet": {"parentId": parent, "textOriginal": reply.text}},
        )
        comment_id = data.get("id")
        if not comment_id:
            raise ConnectorError("youtube: comments.insert answered without id", retryable=False)
        return SentReceipt(external_id=str(comment_id))


def _raise_youtube_error(response: httpx.Response) -> None:
    try:
        error = response.json().get("error") or {}
        reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    except (ValueError, AttributeError):
        error, reasons = {}, set()
    status = response.status_code
    message = f"youtube: HTTP {status}: {error.get('message') or response.text[:300]}"
    if reasons & QUOTA_REASONS:
        if reasons & {"quotaExceeded", "dailyLimitExceeded"}:
            raise RateLimited(message, seconds_until_quota_reset())
        raise RateLimited(message, retry_after_from_headers(response.headers))
    if status == 403 and not reasons & AUTH_REASONS:
        # commentsDisabled, forbidden on one video, ...: this reply, not the channel.
        raise ConnectorError(message, retryable=False)
    raise_for_status(status, response.headers, response.text)


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    """YouTube quotas reset at midnight Pacific time."""
    pacific = ZoneInfo("America/Los_Angeles")
    current = (now or datetime.now(UTC)).astimezone(pacific)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(60.0, (midnight - current).total_seconds())


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("publishedAt missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def normalise_comment(
    comment: Mapping[str, Any], thread_id: str, replies: int = 0, brand: str | None = None
) -> IncomingPost:
    """A ``youtube#comment`` resource as an ``IncomingPost``."""
    snippet = comment["snippet"]
    text = snippet.get("textOriginal", snippet.get("textDisplay"))
    if not isinstance(text, str):
        raise ValueError("comment has no text")
    channel = (snippet.get("authorChannelId") or {}).get("value")
    handle = channel or snippet.get("authorDisplayName")
    if not handle:
        raise KeyError("authorChannelId")
    parent = snippet.get("parentId")
    comment_id = str(comment["id"])
    video = snippet.get("videoId")
    url = f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None
    return IncomingPost(
        network=NETWORK,
        external_id=comment_id,
        author=IncomingAuthor(handle=str(handle),
                              display_name=snippet.get("authorDisplayName")),
        text=text,
        kind=PostKind.reply if parent else PostKind.comment,
        created_at=_time(snippet.get("publishedAt")),
        url=url,
        parent_external_id=str(parent) if parent else video,
        thread_external_id=thread_id,
        likes=int(snippet.get("likeCount") or 0),
        replies=replies,
        brand=brand,
        raw={**comment, "authorChannelId": channel},
    )


def normalise_thread(thread: Mapping[str, Any], brand: str | None = None) -> list[IncomingPost]:
    """A ``youtube#commentThread``: its top-level comment first, then the replies given."""
    snippet = thread["snippet"]
    thread_id = str(thread["id"])
    posts = [normalise_comment(snippet["topLevelComment"], thread_id,
                               int(snippet.get("totalReplyCount") or 0), brand)]
    for reply in (thread.get("replies") or {}).get("comments") or []:
        posts.append(normalise_comment(reply, thread_id, 0, brand))
    return posts


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """A recorded ``youtube#commentThread``'s top-level comment (bench)."""
    snippet = item["snippet"]
    return normalise_comment(snippet["topLevelComment"], str(item["id"]),
                             int(snippet.get("totalReplyCount") or 0))


def _key(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _is_new(state: Mapping[str, Any], when: datetime, item_id: str) -> bool:
    mark = state.get("mark")
    key = _key(when)
    return mark is None or key > mark or (key == mark and item_id not in state.get("ids", []))


def _note(state: dict[str, Any], when: datetime, item_id: str) -> None:
    key = _key(when)
    if state.get("top") is None or key > state["top"]:
        state["top"], state["top_ids"] = key, [item_id]
    elif key == state["top"]:
        state["top_ids"].append(item_id)


def _finish(state: dict[str, Any]) -> None:
    top, top_ids = state.pop("top", None), state.pop("top_ids", [])
    state.pop("page", None)
    state.pop("pages", None)
    if top is None:
        return
    if top == state.get("mark"):
        state["ids"] = sorted(set(state.get("ids", [])) | set(top_ids))
    elif state.get("mark") is None or top > state["mark"]:
        state["mark"], state["ids"] = top, sorted(top_ids)


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"youtube: unreadable cursor: {exc}", retryable=False) from exc
    if not isinstance(state, dict):
        raise ConnectorError("youtube: unreadable cursor", retryable=False)
    return state
