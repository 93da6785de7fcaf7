"""RSS and Atom feeds (blogs, forums, review sites): read-only listening.

``httpx`` fetches (so conditional GETs, timeouts and errors are ours, and tests can point
at the simulator); ``feedparser`` parses every RSS/Atom dialect and sanitises entry HTML.

Cursor (JSON): ``{"turn": i, "feeds": {url: {"etag", "modified", "seen": [...],
"latest": iso}}}``. One ``fetch`` reads one feed. ``seen`` holds the entry ids of the last
document read (a feed is a sliding window, so this bounds it); an entry is new when its id
is not in ``seen`` and it is not older than ``latest`` minus a day (so an entry that drops
out of the window and comes back is not taken twice). ETag / Last-Modified make an
unchanged feed cost a 304.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from time import struct_time
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from ventanilla.ingest.connectors.base import (
    ConnectorError,
    FetchResult,
    OutgoingReply,
    SentReceipt,
    Skipped,
)
from ventanilla.ingest.connectors.http import raise_for_status
from ventanilla.ingest.schema import MAX_TEXT_CHARS, IncomingAuthor, IncomingPost, PostKind

NETWORK = "rss"
MAX_SEEN = 1000
RETURN_WINDOW = timedelta(days=1)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


class SendNotSupported(ConnectorError):
    """Feeds are read-only: answer on the site itself."""

    def __init__(self) -> None:
        super().__init__("rss: feeds are read-only; reply on the site", retryable=False)


class RssConnector:
    """RSS/Atom feeds filtered on the brand's terms (``Connector``).

    settings: ``feeds`` (URLs; relative ones are joined to ``base_url``), ``brand_terms``
    (entries mentioning none are dropped; empty keeps all), ``kind`` (``mention`` or
    ``review``), ``brand``. No credentials.
    """

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, str] | None = None,
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = dict(settings)
        base = (base_url or "").rstrip("/") + "/"
        self.feeds = [urljoin(base, str(u)) if base_url else str(u)
                      for u in self.settings.get("feeds") or []]
        self.terms = [str(t).casefold() for t in self.settings.get("brand_terms") or [] if t]
        self.kind = PostKind(self.settings.get("kind", "mention"))
        self.brand: str | None = self.settings.get("brand")
        self.http = http or httpx.Client(timeout=30.0, follow_redirects=True)

    def test(self) -> str:
        """Fetch the first feed; return its title."""
        if not self.feeds:
            raise ConnectorError("rss: no feeds configured", retryable=False)
        parsed, _ = self._get(self.feeds[0], {})
        if parsed is None:
            return self.feeds[0]
        return str(parsed.feed.get("title") or self.feeds[0])

    def _get(
        self, url: str, feed_state: Mapping[str, Any]
    ) -> tuple[Any | None, httpx.Response]:
        headers = {"accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9"}
        if feed_state.get("etag"):
            headers["if-none-match"] = feed_state["etag"]
        if feed_state.get("modified"):
            headers["if-modified-since"] = feed_state["modified"]
        try:
            response = self.http.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"rss: {url}: {exc!r}", retryable=True) from exc
        if response.status_code == 304:
            return None, response
        raise_for_status(response.status_code, response.headers, response.text)
        parsed = feedparser.parse(response.content,
                                  response_headers={k: v for k, v in response.headers.items()})
        if parsed.bozo and not parsed.entries:
            raise ConnectorError(
                f"rss: {url}: not a feed: {parsed.get('bozo_exception')!r}", retryable=False
            )
        return parsed, response

    def fetch(self, cursor: str | None) -> FetchResult:
        """Read the feed whose turn it is; keep new entries that mention the brand."""
        state = _load_cursor(cursor)
        if not self.feeds:
            return FetchResult(posts=[], cursor=json.dumps(state), more=False)
        turn = int(state.get("turn", 0)) % len(self.feeds)
        url = self.feeds[turn]
        feed_state: dict[str, Any] = dict(state["feeds"].get(url) or {})
        parsed, response = self._get(url, feed_state)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        if parsed is not None:
            posts, skipped = self._take(url, parsed, feed_state, response)
            state["feeds"][url] = feed_state
        turn += 1
        more = turn < len(self.feeds)
        state["turn"] = turn if more else 0
        return FetchResult(posts=posts, cursor=json.dumps(state), more=more, skipped=skipped)

    def _take(
        self, url: str, parsed: Any, feed_state: dict[str, Any], response: httpx.Response
    ) -> tuple[list[IncomingPost], list[Skipped]]:
        seen = set(feed_state.get("seen") or [])
        latest = feed_state.get("latest")
        floor = (datetime.fromisoformat(latest) - RETURN_WINDOW) if latest else None
        fetched_at = _response_time(response)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        ids: list[str] = []
        newest = datetime.fromisoformat(latest) if latest else None
        feed = dict(parsed.feed)
        for entry in parsed.entries:
            try:
                post = normalise_entry(entry, feed, url, kind=self.kind,
                                       fetched_at=fetched_at, brand=self.brand)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(_plain(entry), f"rss entry: {exc!r}"))
                continue
            ids.append(post.external_id)
            if newest is None or post.created_at > newest:
                newest = post.created_at
            if post.external_id in seen or (floor is not None and post.created_at < floor):
                continue
            if self.terms and not mentions_any(post.text, self.terms):
                continue
            posts.append(post)
        feed_state["seen"] = ids[:MAX_SEEN]
        if newest is not None:
            feed_state["latest"] = newest.isoformat()
        if response.headers.get("etag"):
            feed_state["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            feed_state["modified"] = response.headers["last-modified"]
        return posts, skipped

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Feeds cannot be answered: always raises :class:`SendNotSupported`."""
        raise SendNotSupported()


def mentions_any(text: str, terms: Sequence[str]) -> bool:
    """Whether ``text`` contains any of the (case-folded) brand ``terms``."""
    folded = text.casefold()
    return any(term in folded for term in terms)


def strip_html(value: str) -> str:
    """Text of an (already sanitised) HTML fragment."""
    text = html.unescape(_TAGS.sub(" ", value))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines()).strip()


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, struct_time):
            return datetime(*value[:6], tzinfo=UTC)
    return None


def normalise_entry(
    entry: Mapping[str, Any], feed: Mapping[str, Any], feed_url: str, *,
    kind: PostKind = PostKind.mention, fetched_at: datetime | None = None,
    brand: str | None = None,
) -> IncomingPost:
    """A feedparser entry as an ``IncomingPost``; the author is what the feed names."""
    # FeedParserDict lookups resolve aliases on every access; a plain dict of the canonical
    # keys is several times faster and holds everything read here.
    entry = dict(entry)
    link = entry.get("link")
    entry_id = entry.get("id") or link
    if not entry_id:
        raise KeyError("entry has neither id/guid nor link")
    entry_id = str(entry_id)
    if len(entry_id) > 255:
        entry_id = "sha256:" + hashlib.sha256(entry_id.encode()).hexdigest()
    title = strip_html(str(entry.get("title") or ""))
    body = ""
    if entry.get("content"):
        body = strip_html(str(entry["content"][0].get("value") or ""))
    elif entry.get("summary"):
        body = strip_html(str(entry["summary"]))
    if not title and not body:
        raise ValueError("entry has no title and no text")
    text = f"{title}\n\n{body}".strip() if title and body and not body.startswith(title) else (
        body or title)
    author = str(entry.get("author") or feed.get("title") or urlsplit(feed_url).netloc)
    created = _entry_time(entry) or fetched_at or datetime.now(UTC)
    return IncomingPost(
        network=NETWORK,
        external_id=entry_id,
        author=IncomingAuthor(handle=author[:255], display_name=None),
        text=text[:MAX_TEXT_CHARS],
        kind=kind,
        created_at=created,
        language=(str(entry.get("language") or feed.get("language") or "")[:8] or None),
        url=str(link)[:2048] if link else None,
        thread_external_id=feed_url[:255],
        brand=brand,
        raw={"id": entry_id, "link": link, "feed": feed_url},
    )


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """A recorded feedparser-style entry ``{"entry": ..., "feed": ..., "url": ...}`` (bench)."""
    return normalise_entry(item["entry"], item["feed"], item["url"])


def _plain(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if isinstance(v, str | int | float | bool)}


def _response_time(response: httpx.Response) -> datetime | None:
    from email.utils import parsedate_to_datetime

    value = response.headers.get("date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"turn": 0, "feeds": {}}
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"rss: unreadable cursor: {exc}", retryable=False) from exc
    if not isinstance(state, dict) or not isinstance(state.get("feeds"), dict):
        raise ConnectorError("rss: unreadable cursor", retryable=False)
    return state
