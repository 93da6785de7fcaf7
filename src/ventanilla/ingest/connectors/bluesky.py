"""Bluesky (AT Protocol): mentions, replies and quotes from notifications, plus post search.

Talks through the ``atproto`` SDK (its ``Client`` pointed at the account's PDS, or a simulator,
with our shared ``httpx.Client`` underneath). Pages are read raw (``invoke_query``) so one bad
post is skipped instead of failing the whole page's model validation.

Both sources are newest-first with a cursor that only goes back in time, so a sync walks down
from the top until it reaches what it saw last time (the high-water mark, by ``indexedAt``).
Cursor (JSON), per source: ``hw``/``hw_uris`` (the mark), and while a walk is under way ``c``
(the network's cursor for the next older page) and ``top``/``top_uris`` (the mark it will set).
A first sync reads only the newest page: no backfill. Direct messages (chat.bsky) are not read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
from atproto import Client, Session, SessionEvent, models
from atproto_client.exceptions import AtProtocolError, RequestErrorBase
from atproto_client.models.common import XrpcError
from atproto_client.request import Request, RequestBase
from pydantic import ValidationError

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    CredentialStore,
    FetchResult,
    OutgoingReply,
    SentReceipt,
    Skipped,
)
from ventanilla.ingest.connectors.http import raise_for_status
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

NETWORK = "bluesky"
DEFAULT_PDS = "https://bsky.social"
PAGE_SIZE = 50
POST_COLLECTION = "app.bsky.feed.post"
POST_REASONS = ("mention", "reply", "quote")
_EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})
T = TypeVar("T")


# -- normalisation --------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("timestamp missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def post_url(uri: str, handle: str) -> str | None:
    """The bsky.app address of a post's ``at://`` URI."""
    parts = uri.split("/")
    if len(parts) != 5 or parts[3] != POST_COLLECTION:
        return None
    return f"https://bsky.app/profile/{handle}/post/{parts[4]}"


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """Normalise a notification (listNotifications) or a postView (searchPosts, getPosts).

    Kind: ``reply`` when the record answers another post, else ``mention`` (quotes included).
    Parent and thread are the reply's parent and root URIs; a root post is its own thread.
    """
    record = item["record"]
    if record.get("$type", POST_COLLECTION) != POST_COLLECTION:
        raise ValueError(f"record type {record.get('$type')!r} is not a post")
    reason = item.get("reason")
    if reason is not None and reason not in POST_REASONS:
        raise ValueError(f"notification reason {reason!r} carries no post")
    author = item["author"]
    uri = str(item["uri"])
    if not uri.startswith("at://"):
        raise ValueError(f"not an at:// URI: {uri!r}")
    reply = record.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    langs = record.get("langs") or []
    verification = author.get("verification") or {}
    handle = author["handle"]
    return IncomingPost(
        network=NETWORK,
        external_id=uri,
        author=IncomingAuthor(
            handle=handle,
            display_name=author.get("displayName") or None,
            followers=author.get("followersCount"),
            verified=verification.get("verifiedStatus") == "valid",
        ),
        text=str(record.get("text", "")),
        kind=PostKind.reply if parent else PostKind.mention,
        created_at=_time(record.get("createdAt") or item.get("indexedAt")),
        language=str(langs[0])[:8] if langs else None,
        url=post_url(uri, handle),
        parent_external_id=parent,
        thread_external_id=root or uri,
        likes=_count(item.get("likeCount")),
        shares=_count(item.get("repostCount")) + _count(item.get("quoteCount")),
        replies=_count(item.get("replyCount")),
        raw=dict(item),
    )


# -- cursor: walking down a newest-first feed ------------------------------------------------


def _mark(item: Mapping[str, Any]) -> tuple[str, str]:
    return (str(item.get("indexedAt") or ""), str(item.get("uri") or ""))


def walk_page(
    state: Mapping[str, Any], items: list[dict[str, Any]], next_cursor: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """Keep the items above the high-water mark; return them, the new state and ``more``.

    ``indexedAt`` strings from one service share one format, so they compare as text.
    """
    hw, hw_uris = state.get("hw"), set(state.get("hw_uris") or [])
    walking = state.get("c") is not None
    if hw is None:
        fresh = list(items)
    else:
        fresh = [i for i in items if _mark(i)[0] > hw or (_mark(i)[0] == hw and
                                                         _mark(i)[1] not in hw_uris)]
    if walking:
        top, top_uris = state.get("top"), list(state.get("top_uris") or [])
    else:
        marks = [_mark(i) for i in items]
        top = max((m[0] for m in marks), default=hw)
        top_uris = [u for t, u in marks if t == top] or list(hw_uris)
    reached = hw is None or len(fresh) < len(items) or not next_cursor or not items
    if reached:
        # "" marks a source read empty: whatever appears later is above it.
        return fresh, {"hw": top or "", "hw_uris": top_uris}, False
    return fresh, {"hw": hw, "hw_uris": sorted(hw_uris), "c": next_cursor,
                   "top": top, "top_uris": top_uris}, True


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"n": {}, "s": {}}
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"unreadable Bluesky cursor {cursor!r}", retryable=False) from exc
    return {"n": dict(data.get("n") or {}), "s": dict(data.get("s") or {}), "i": data.get("i")}


def next_source(index: int, count: int, source_more: bool) -> tuple[int, bool]:
    """Which source the next ``fetch`` reads, and whether it should come at once (``more``)."""
    if source_more:
        return index, True
    following = index + 1
    return following % count, following < count


def record_key(idempotency_key: str) -> str:
    """A TID-shaped record key derived from the idempotency key (same key, same record).

    A retried send lands on the same ``rkey``, so the record is found instead of posted twice.
    """
    number = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    number &= (1 << 63) - 1  # TIDs keep the top bit clear
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    chars = []
    for _ in range(13):
        chars.append(alphabet[number & 31])
        number >>= 5
    return "".join(reversed(chars))


# -- the connector ------------------------------------------------------------------------


class _SharedHttpRequest(Request):
    """The SDK's request layer on top of a caller's ``httpx.Client``."""

    def __init__(self, http: httpx.Client) -> None:
        RequestBase.__init__(self)  # not Request's: it would open a client of its own
        self._client_kwargs: dict[str, Any] = {}
        self._client = http


class BlueskyConnector:
    """Reads one Bluesky account's notifications and the channel's searches; replies as it.

    settings: ``pds_url`` (default bsky.social when ``base_url`` is not given), ``queries``
    (list of searchPosts queries, e.g. the brand's name), ``page_size``.
    credentials: ``identifier`` (handle or DID) and ``app_password``; ``session`` (the SDK's
    session string: DID, handle, access and refresh JWTs) is written by the connector to
    ``credential_store`` whenever the SDK logs in or refreshes, so a restart resumes the
    session instead of logging in again (the PDS allows few logins a day).
    """

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.identifier = str(credentials.get("identifier") or "")
        self.password = str(credentials.get("app_password") or "")
        if not self.identifier or not self.password:
            raise ConnectorError("Bluesky channel needs identifier and app_password",
                                 retryable=False)
        self.queries: list[str] = [str(q) for q in settings.get("queries") or []]
        self.page_size = int(settings.get("page_size") or PAGE_SIZE)
        url = base_url or settings.get("pds_url") or DEFAULT_PDS
        request = _SharedHttpRequest(http) if http is not None else Request(timeout=30)
        self._client = Client(base_url=url, request=request)
        self._client.on_session_change(self._on_session)
        self._session: Session | None = None
        self._stored_session = str(credentials.get("session") or "")
        self.credential_store: CredentialStore | None = None

    def _on_session(self, event: SessionEvent, session: Session) -> None:
        self._session = session
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._stored_session = self._client.export_session_string()
            if self.credential_store is not None:
                self.credential_store.save({"session": self._stored_session})

    def _login(self) -> Session:
        if self._session is None and self._stored_session:
            # Resume the stored session (no request; the SDK refreshes it first if it expired).
            stored, self._stored_session = self._stored_session, ""
            try:
                self._client.login(session_string=stored, fetch_bsky_profile=False)
            except (ValueError, AtProtocolError):
                self._session = None  # unreadable: log in with the app password
        if self._session is None:
            self._guard(lambda: self._client.login(self.identifier, self.password,
                                                   fetch_bsky_profile=False))
        assert self._session is not None
        return self._session

    def _renew(self) -> None:
        """The PDS refused the access JWT: refresh with the refresh JWT (the SDK's own
        refreshSession), and when that is refused too, log in with the app password."""
        if self._session is not None:
            try:
                self._guard(self._client._refresh_and_set_session)
                return
            except AuthError:
                pass
            except ConnectorError as exc:
                if exc.retryable:
                    raise
        self._session = None
        self._stored_session = ""
        try:
            self._login()
        except AuthError as exc:
            raise AuthError(f"Bluesky session expired and could not be renewed: {exc}") from exc

    @staticmethod
    def _guard(action: Callable[[], T]) -> T:
        """Run an SDK call, turning its errors into the scheduler's error classes."""
        try:
            return action()
        except RequestErrorBase as exc:
            response = exc.response
            if response is None:
                raise ConnectorError(f"Bluesky unreachable: {exc}", retryable=True) from exc
            content = response.content
            if isinstance(content, XrpcError) and content.error in _EXPIRED:
                raise AuthError(f"Bluesky session refused: {content.error}") from exc
            raise_for_status(response.status_code, response.headers, str(exc))
            raise ConnectorError(f"Bluesky error: {exc}", retryable=False) from exc
        except AtProtocolError as exc:
            raise ConnectorError(f"Bluesky error: {exc!r}", retryable=False) from exc

    def _call(self, action: Callable[[], T]) -> T:
        """Like ``_guard`` after logging in; an expired session gets one fresh login."""
        self._login()
        try:
            return self._guard(action)
        except AuthError:
            self._renew()
            return self._guard(action)

    # -- Connector --------------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> FetchResult:
        """One page of one source (notifications, then each search, in turn).

        ``more`` stays true until every source was read to its mark in this round, so a
        rate limit on one endpoint never throws away a page already read from another.
        """
        state = _load_cursor(cursor)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        own = self._login().did  # our own posts found by a search are not incoming
        sources = [None, *self.queries]
        index = int(state.get("i") or 0) % len(sources)
        query = sources[index]
        if query is None:
            note_state = state["n"]
            params = models.AppBskyNotificationListNotifications.Params(
                limit=self.page_size, cursor=note_state.get("c"), reasons=list(POST_REASONS)
            )
            page = self._query("app.bsky.notification.listNotifications", params)
            fresh, state["n"], source_more = walk_page(
                note_state, _items(page, "notifications"), page.get("cursor")
            )
        else:
            search_state = state["s"].get(query) or {}
            search = models.AppBskyFeedSearchPosts.Params(
                q=query, sort="latest", limit=min(self.page_size, 100),
                cursor=search_state.get("c"),
            )
            page = self._query("app.bsky.feed.searchPosts", search)
            fresh, state["s"][query], source_more = walk_page(
                search_state, _items(page, "posts"), page.get("cursor")
            )
        self._collect(fresh, posts, skipped, set(), own)
        state["i"], more = next_source(index, len(sources), source_more)
        posts.sort(key=lambda p: p.created_at)
        return FetchResult(posts, json.dumps(state, sort_keys=True), more, skipped)

    def _query(self, nsid: str, params: Any) -> dict[str, Any]:
        response = self._call(lambda: self._client.invoke_query(nsid, params=params))
        if not isinstance(response.content, dict):
            raise ConnectorError(f"Bluesky {nsid} answered no JSON object", retryable=True)
        return response.content

    @staticmethod
    def _collect(
        items: list[dict[str, Any]], posts: list[IncomingPost], skipped: list[Skipped],
        seen: set[str], own: str,
    ) -> None:
        for item in items:
            reason = item.get("reason")
            if reason is not None and reason not in POST_REASONS:
                continue  # likes, follows and reposts are not posts to answer
            author = item.get("author")
            if isinstance(author, dict) and author.get("did") == own:
                continue
            try:
                post = normalise(item)
            except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
                skipped.append(Skipped(item, f"malformed Bluesky item: {exc!r}"))
                continue
            if post.external_id not in seen:
                seen.add(post.external_id)
                posts.append(post)

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Reply in the parent's thread; a retried idempotency key finds its first record."""
        if reply.private:
            raise ConnectorError("Bluesky private replies (chat) are not supported",
                                 retryable=False)
        if not reply.in_reply_to_external_id:
            raise ConnectorError("a Bluesky reply needs the parent post's URI", retryable=False)
        session = self._login()
        rkey = record_key(reply.idempotency_key)
        existing = self._existing_record(session.did, rkey)
        if existing is not None:
            return existing
        found = self._call(lambda: self._client.app.bsky.feed.get_posts(
            models.AppBskyFeedGetPosts.Params(uris=[reply.in_reply_to_external_id or ""])
        ))
        if not found.posts:
            raise ConnectorError(f"Bluesky post {reply.in_reply_to_external_id} is gone",
                                 retryable=False)
        parent = found.posts[0]
        parent_ref = {"uri": parent.uri, "cid": parent.cid}
        parent_reply = getattr(parent.record, "reply", None)
        root_ref = (
            {"uri": parent_reply.root.uri, "cid": parent_reply.root.cid}
            if parent_reply is not None else parent_ref
        )
        record = {
            "$type": POST_COLLECTION,
            "text": reply.text,
            "createdAt": self._client.get_current_time_iso(),
            "reply": {"root": root_ref, "parent": parent_ref},
        }
        created = self._call(lambda: self._client.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(
                repo=session.did, collection=POST_COLLECTION, rkey=rkey, record=record,
            )
        ))
        return SentReceipt(external_id=created.uri, url=post_url(created.uri, session.handle))

    def _existing_record(self, did: str, rkey: str) -> SentReceipt | None:
        try:
            found = self._call(lambda: self._client.com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(
                    repo=did, collection=POST_COLLECTION, rkey=rkey
                )
            ))
        except ConnectorError as exc:
            if exc.retryable or isinstance(exc, AuthError):
                raise
            return None  # RecordNotFound: not sent yet
        handle = self._session.handle if self._session else self.identifier
        return SentReceipt(external_id=found.uri, url=post_url(found.uri, handle))

    def test(self) -> str:
        """Log in and ask the PDS whose session this is; return the handle."""
        self._login()
        me = self._call(lambda: self._client.com.atproto.server.get_session())
        return str(me.handle)


def _items(page: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = page.get(key)
    return [i if isinstance(i, dict) else {"invalid": i} for i in items] if isinstance(
        items, list) else []
