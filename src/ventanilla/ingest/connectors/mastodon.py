"""Mastodon: mentions from the notifications API and statuses under the brand's hashtags.

Talks through Mastodon.py (``api_base_url`` points it at any instance, or a simulator).
Polling with persisted cursors is the source of truth. The streaming API (Server-Sent
Events, :class:`MastodonStream`) is only a wake-up signal: a mention (or a status under a
followed hashtag) pushed on the stream makes ``ingest.listen`` sync the channel at once,
through the same ``fetch`` and cursor, so nothing is read outside the poller's path.

Cursor (JSON): ``{"n": last notification id, "t": {tag: last status id}}``. Mastodon ids
grow with time, so ``min_id`` returns the page right after the cursor and nothing is skipped.
A first sync (no cursor) reads only the newest page of each source: no backfill.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime
from functools import partial
from html import unescape
from typing import Any, TypeVar

import httpx
import requests
from mastodon import Mastodon, MastodonError, MastodonNetworkError, StreamListener
from pydantic import ValidationError

from ventanilla.ingest.connectors.base import (
    ConnectorError,
    FetchResult,
    OutgoingReply,
    SentReceipt,
    Skipped,
)
from ventanilla.ingest.connectors.http import raise_for_status
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

NETWORK = "mastodon"
PAGE_SIZE = 40  # Mastodon's maximum for notifications and timelines
# Mastodon's streaming server writes a heartbeat comment every 15 s or so: a stream silent
# for this long is dead (a half-open connection) and is dropped and reopened.
STREAM_READ_TIMEOUT = 90.0
USER_STREAM = "/api/v1/streaming/user/notification"  # the user stream, notifications only
log = logging.getLogger(__name__)
T = TypeVar("T")


# -- HTML to plain text -------------------------------------------------------------------


_TAG = re.compile(
    r"<!--.*?-->"  # comments
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"  # tags, quoted attrs
    r"|<![^>]*>|<\?[^>]*>",  # doctype, processing instructions
    re.S,
)
_BREAK_BEFORE = frozenset({"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5",
                           "h6", "pre", "tr", "table", "ul", "ol"})
_SKIP = frozenset({"script", "style", "template", "head", "title"})
_SPACES = re.compile(r"\s+")  # source whitespace, newlines included, is one space in HTML
_BLANK_LINES = re.compile(r"\n{3,}")
_BR, _PARA = "\x01", "\x02"


def plain_text_from_html(html: str) -> str:
    """Turn an HTML fragment (a toot, an HTML-only e-mail) into plain text.

    Tags are dropped, never interpreted: script and style bodies vanish, entities are decoded
    after the tags are gone (so ``&lt;script&gt;`` stays visible text), ``<br>`` and block
    starts become line breaks. Mastodon's hidden link parts (``<span class="invisible">``)
    are kept so links read in full.
    """
    if "<" not in html and "&" not in html:
        return html.strip()
    # Breaks are marked with control characters while source whitespace is collapsed.
    html = html.replace(_BR, "").replace(_PARA, "")
    parts: list[str] = []
    skipping: str | None = None
    position = 0
    for match in _TAG.finditer(html):
        if skipping is None:
            parts.append(html[position:match.start()])
        position = match.end()
        closing, name = match.group(1), (match.group(2) or "").lower()
        if not name:
            continue
        if skipping is not None:
            if closing and name == skipping:
                skipping = None
            continue
        if name in _SKIP and not closing:
            skipping = name
        elif name == "br":
            parts.append(_BR)
        elif name in _BREAK_BEFORE and not closing:
            parts.append(_PARA)
    if skipping is None:
        parts.append(html[position:])
    text = unescape(_SPACES.sub(" ", "".join(parts))).replace("\xa0", " ")
    text = text.replace(_PARA, "\n\n").replace(_BR, "\n")
    if " \n" in text or "\n " in text:
        text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


# -- normalisation --------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("created_at missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def normalise_status(status: Mapping[str, Any]) -> IncomingPost:
    """Normalise one Mastodon Status entity (as the REST API documents it).

    Kind: ``direct_message`` for direct visibility, ``reply`` when it answers another status,
    else ``mention``. The thread root is not in a status, so ``thread_external_id`` is the
    status itself for a root post and unknown (None) for replies; no extra call is made.
    """
    account = status["account"]
    parent = status.get("in_reply_to_id")
    if status.get("visibility") == "direct":
        kind = PostKind.direct_message
    elif parent:
        kind = PostKind.reply
    else:
        kind = PostKind.mention
    text = plain_text_from_html(status.get("content") or "")
    spoiler = status.get("spoiler_text")
    if spoiler:
        text = f"{spoiler}\n\n{text}"
    status_id = str(status["id"])
    return IncomingPost(
        network=NETWORK,
        external_id=status_id,
        author=IncomingAuthor(
            handle=account["acct"],
            display_name=account.get("display_name") or None,
            followers=account.get("followers_count"),
        ),
        text=text,
        kind=kind,
        created_at=_parse_time(status.get("created_at")),
        language=status.get("language"),
        url=status.get("url") or status.get("uri"),
        parent_external_id=str(parent) if parent else None,
        thread_external_id=None if parent else status_id,
        likes=_count(status.get("favourites_count")),
        shares=_count(status.get("reblogs_count")),
        replies=_count(status.get("replies_count")),
    )


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """Normalise a Notification (type mention) or a bare Status, whichever ``item`` is."""
    if "type" in item and "status" in item:
        if item["type"] != "mention":
            raise ValueError(f"notification type {item['type']!r} carries no post")
        if not isinstance(item["status"], Mapping):
            raise ValueError("mention notification without a status")
        post = normalise_status(item["status"])
        post.raw = _plain(item)
        return post
    post = normalise_status(item)
    post.raw = _plain(item)
    return post


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` as JSON-ready data (Mastodon.py hands back dict subclasses with datetimes)."""
    if type(item) is dict:
        return item
    return dict(json.loads(json.dumps(item, default=str)))


# -- cursor -------------------------------------------------------------------------------


def _id_key(value: str) -> tuple[int, str]:
    # Snowflake-like ids: a longer id is a newer one, then compare as text.
    return (len(value), value)


def _newest(ids: list[str], current: str | None) -> str | None:
    candidates = [*ids, *([current] if current else [])]
    return max(candidates, key=_id_key) if candidates else None


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"n": None, "t": {}}
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"unreadable Mastodon cursor {cursor!r}", retryable=False) from exc
    return {"n": data.get("n"), "t": dict(data.get("t") or {}), "i": data.get("i")}


def next_source(index: int, count: int, source_more: bool) -> tuple[int, bool]:
    """Which source the next ``fetch`` reads, and whether it should come at once (``more``)."""
    if source_more:
        return index, True
    following = index + 1
    return following % count, following < count


# -- the connector ------------------------------------------------------------------------


class MastodonConnector:
    """Polls one Mastodon account's mentions and the channel's hashtags; replies as it.

    settings: ``instance_url`` (when ``base_url`` is not given), ``hashtags`` (list, no ``#``),
    ``reply_visibility`` (public replies: ``public`` by default, or ``unlisted``),
    ``account_id`` (ours; saves a verify_credentials call when hashtags are read).
    credentials: ``access_token`` (scopes read:notifications read:statuses write:statuses).
    ``http`` is accepted for the common constructor but unused: Mastodon.py speaks ``requests``.
    """

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        url = base_url or settings.get("instance_url")
        if not url:
            raise ConnectorError("Mastodon channel has no instance_url", retryable=False)
        token = credentials.get("access_token")
        if not token:
            raise ConnectorError("Mastodon channel has no access_token", retryable=False)
        self.hashtags: list[str] = [str(t).lstrip("#") for t in settings.get("hashtags") or []]
        self.reply_visibility = str(settings.get("reply_visibility") or "public")
        self.page_size = int(settings.get("page_size") or PAGE_SIZE)
        self.stream_hashtags = _flag(settings.get("stream_hashtags"), default=True)
        self._url, self._token = str(url), str(token)
        self._last_response: requests.Response | None = None
        own = settings.get("account_id")
        self._account_id: str | None = f"account:{own}" if own else None
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        self._api = Mastodon(
            access_token=token,
            api_base_url=url,
            session=session,
            ratelimit_method="throw",
            version_check_mode="none",
            request_timeout=30,
        )

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response = response

    def _call(self, action: Callable[[], T]) -> T:
        """Run a Mastodon.py call, turning its errors into the scheduler's error classes."""
        self._last_response = None
        try:
            return action()
        except MastodonNetworkError as exc:
            raise ConnectorError(f"Mastodon unreachable: {exc}", retryable=True) from exc
        except MastodonError as exc:
            response = self._last_response
            if response is not None and response.status_code >= 400:
                raise_for_status(response.status_code, response.headers, response.text)
            # An unreadable 2xx answer (a proxy's error page, a garbled header): try again later.
            raise ConnectorError(f"Mastodon error: {exc}", retryable=True) from exc

    # -- Connector --------------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> FetchResult:
        """One page of one source (mentions, then each hashtag, in turn), after ``cursor``.

        ``more`` stays true until every source was read up to date in this round, so a rate
        limit on one endpoint never throws away a page already read from another.
        """
        state = _load_cursor(cursor)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        sources: list[str | None] = [None, *self.hashtags]
        index = int(state.get("i") or 0) % len(sources)
        tag = sources[index]
        if tag is None:
            after = state["n"]
            items = self._call(partial(self._page, self._api.notifications, after,
                                       types=["mention"]))
            own = None
        else:
            after = state["t"].get(tag)
            items = self._call(partial(self._page, self._api.timeline_hashtag, after, tag))
            own = self._own_account_id()
        # "0" marks a source read empty: what arrives later is all new, read from the start.
        newest = _newest(self._collect(items, posts, skipped, set(), own), after) or "0"
        if tag is None:
            state["n"] = newest
        else:
            state["t"][tag] = newest
        source_more = bool(after) and len(items) >= self.page_size
        state["i"], more = next_source(index, len(sources), source_more)
        posts.sort(key=lambda p: p.created_at)
        return FetchResult(posts, json.dumps(state, sort_keys=True), more, skipped)

    def _page(self, endpoint: Callable[..., Any], after: str | None, *args: Any,
              **kwargs: Any) -> list[Any]:
        """The page just after ``after`` (``min_id``), or the newest page on a first sync."""
        if after:
            kwargs["min_id"] = after
        return list(endpoint(*args, limit=self.page_size, **kwargs))

    @staticmethod
    def _collect(
        items: list[Any], posts: list[IncomingPost], skipped: list[Skipped], seen: set[str],
        own: str | None = None,
    ) -> list[str]:
        """Normalise ``items`` into ``posts`` (not ours: ``own``); return their ids."""
        ids: list[str] = []
        for item in items:
            item_id = item.get("id") if isinstance(item, Mapping) else None
            if item_id is not None:
                ids.append(str(item_id))
            if own is not None and _author_id(item) == own:
                continue  # our own tagged statuses are not incoming
            try:
                post = normalise(item)
            except (KeyError, TypeError, ValueError, ValidationError) as exc:
                skipped.append(Skipped(_safe_raw(item), f"malformed Mastodon item: {exc!r}"))
                continue
            if post.external_id not in seen:
                seen.add(post.external_id)
                posts.append(post)
        return ids

    def _own_account_id(self) -> str:
        if self._account_id is None:
            account = self._call(self._api.account_verify_credentials)
            self._account_id = f"account:{account['id']}"
        return self._account_id

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Post a reply status; the idempotency key makes a retried send post only once."""
        text = reply.text
        handle = (reply.recipient_handle or "").lstrip("@")
        if handle and f"@{handle}" not in text:
            # Mastodon only notifies (and, for direct, only delivers to) mentioned accounts.
            text = f"@{handle} {text}"
        visibility = "direct" if reply.private else self.reply_visibility
        status = self._call(
            lambda: self._api.status_post(
                text,
                in_reply_to_id=reply.in_reply_to_external_id,
                visibility=visibility,
                idempotency_key=reply.idempotency_key,
            )
        )
        return SentReceipt(external_id=str(status["id"]), url=status.get("url"))

    def test(self) -> str:
        """Verify the token; return the account's ``acct``."""
        account = self._call(self._api.account_verify_credentials)
        return str(account["acct"])

    # -- push -------------------------------------------------------------------------------

    def push_sources(self) -> list[MastodonStream]:
        """The streams that wake this channel: the user's notifications, and each hashtag's
        public stream (unless ``stream_hashtags`` is false). Each has its own HTTP session."""
        sources = [MastodonStream(self._url, self._token)]
        if self.stream_hashtags:
            sources += [MastodonStream(self._url, self._token, hashtag=tag) for tag in self.hashtags]
        return sources


def _flag(value: Any, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


# -- streaming (a wake-up signal) ----------------------------------------------------------


class _Wake(StreamListener):
    """Mastodon.py's SSE parser calls these; we only ring the bell, the poller reads."""

    def __init__(self, wake: Callable[[], None], *, statuses: bool) -> None:
        self._wake = wake
        self._statuses = statuses

    def on_notification(self, notification: Any) -> None:
        if isinstance(notification, Mapping) and notification.get("type") == "mention":
            self._wake()

    def on_update(self, status: Any) -> None:
        if self._statuses:  # a hashtag stream: every new status is one to read
            self._wake()

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        return  # newer event kinds are not our business


class MastodonStream:
    """One Server-Sent Events stream: the account's notifications, or ``#hashtag``'s statuses.

    Uses Mastodon.py's streaming (``stream_user_notifications`` / ``stream_hashtag``): it finds
    the streaming host the instance announces (``urls.streaming_api``, which may be another
    host) and parses the events and ``:thump`` heartbeats. Its own reconnecting is not used:
    ``ingest.listen`` reconnects with exponential backoff and jitter, and the stream is only
    a wake-up signal, so a dropped connection loses nothing (the next sync reads it).
    """

    def __init__(self, url: str, token: str, *, hashtag: str | None = None,
                 read_timeout: float = STREAM_READ_TIMEOUT) -> None:
        self.hashtag = hashtag
        self.name = f"#{hashtag}" if hashtag else "notifications"
        self.read_timeout = read_timeout
        self._lock = threading.Lock()
        self._stopped = False
        self._stream: requests.Response | None = None
        self._last: requests.Response | None = None
        self._opened: Callable[[], None] | None = None
        session = requests.Session()
        session.hooks["response"].append(self._seen)
        self._api = Mastodon(access_token=token, api_base_url=url, session=session,
                             ratelimit_method="throw", version_check_mode="none", request_timeout=30)

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/api/v1/streaming" not in response.url:
            return  # the instance lookup that finds the streaming host
        self._last = response
        if response.status_code != 200:
            return
        with self._lock:
            self._stream = response
            stopped = self._stopped
        if stopped:
            _shutdown(response)
        elif self._opened is not None:
            self._opened()

    def listen(self, wake: Callable[[], None], opened: Callable[[], None]) -> None:
        """Block reading the stream; ``opened()`` once connected, ``wake()`` on each new post.

        Returns when the server ends the stream or :meth:`interrupt` is called; raises the
        connector's errors when it cannot connect (401 → ``AuthError``, 429 → ``RateLimited``)
        or the connection drops (retryable ``ConnectorError``).
        """
        self._opened = opened
        self._last = None
        listener = _Wake(wake, statuses=self.hashtag is not None)
        try:
            if self.hashtag is not None:
                self._api.stream_hashtag(self.hashtag, listener, timeout=self.read_timeout)
            else:
                self._api.stream_user_notifications(listener, timeout=self.read_timeout)
        except (MastodonError, requests.RequestException, OSError) as exc:
            if self._stopped:
                return
            response = self._last
            if response is not None and response.status_code >= 400:
                raise_for_status(response.status_code, response.headers, response.text)
            raise ConnectorError(f"Mastodon stream {self.name} dropped: {exc}", retryable=True) from exc
        finally:
            with self._lock:
                stream, self._stream = self._stream, None
            if stream is not None:
                stream.close()

    def interrupt(self) -> None:
        """From another thread: make :meth:`listen` return now (shuts the socket down)."""
        with self._lock:
            self._stopped = True
            stream = self._stream
        if stream is not None:
            _shutdown(stream)


def _shutdown(response: requests.Response) -> None:
    """Wake a thread blocked reading ``response``: shut its socket down (closing alone may not)."""
    connection = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    try:
        response.close()
    except Exception:
        log.debug("closing a Mastodon stream failed", exc_info=True)


def _author_id(item: Any) -> str | None:
    """``account:<id>`` of the status's author (comparable with ``_own_account_id``)."""
    if not isinstance(item, Mapping):
        return None
    status = item.get("status") if "type" in item else item
    account = status.get("account") if isinstance(status, Mapping) else None
    return f"account:{account.get('id')}" if isinstance(account, Mapping) else None


def _safe_raw(item: Any) -> Any:
    try:
        return _plain(item) if isinstance(item, Mapping) else item
    except (TypeError, ValueError):
        return repr(item)
