"""Reddit: inbox (comment replies, username mentions, private messages) and subreddit search.

Plain ``httpx`` against Reddit's OAuth API rather than PRAW: PRAW (prawcore) sleeps inside a
call when the rate-limit headers say so and retries 5xx itself with sleeps, which would block
a worker and hide failures the channel scheduler is meant to back off from; it also brings its
own ``requests`` session instead of the shared ``httpx.Client``.

Listings are newest first; ``before=<fullname>`` returns the page just newer than that item,
so a sync walks forward from its anchor and nothing is skipped. Cursor (JSON), per source:
``{"name": anchor fullname, "t": its created_utc}``. If the anchor was deleted, Reddit answers
an empty page forever; the connector then reads the newest page and keeps what is newer than
the anchor's time. A first sync reads only the newest page: no backfill.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

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
from ventanilla.ingest.connectors.http import raise_for_status
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

NETWORK = "reddit"
AUTH_URL = "https://www.reddit.com"
API_URL = "https://oauth.reddit.com"
SITE = "https://www.reddit.com"
PAGE_SIZE = 100  # Reddit's maximum
_CONTEXT_LINK = re.compile(r"/comments/([a-z0-9]+)/")
_TRY_AGAIN = re.compile(r"(\d+)\s*(second|minute)")


# -- normalisation --------------------------------------------------------------------------


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _created(data: Mapping[str, Any]) -> datetime:
    value = data["created_utc"]
    if not isinstance(value, int | float):
        raise ValueError("created_utc is not a number")
    return datetime.fromtimestamp(float(value), tz=UTC)


def _link_of(data: Mapping[str, Any]) -> str | None:
    link = data.get("link_id")
    if link:
        return str(link)
    match = _CONTEXT_LINK.search(str(data.get("context") or ""))
    return f"t3_{match.group(1)}" if match else None


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """Normalise one listing child (``{"kind": "t1"|"t3"|"t4", "data": {...}}``).

    t3 submission: title and body, its own thread. t1 comment: ``parent_id`` is the parent,
    ``link_id`` (or the inbox ``context`` link) the thread; inbox replies are ``reply``,
    username mentions ``mention``, other comments ``comment``. t4 private message:
    ``direct_message`` in the conversation of ``first_message_name``.
    """
    kind_code, data = item["kind"], item["data"]
    name = str(data["name"])
    author = IncomingAuthor(handle=str(data["author"]))
    created = _created(data)
    if kind_code == "t3":
        body = data.get("selftext") or ""
        text = f"{data['title']}\n\n{body}" if body else str(data["title"])
        return IncomingPost(
            network=NETWORK, external_id=name, author=author, text=text,
            kind=PostKind.mention, created_at=created,
            url=SITE + str(data.get("permalink") or ""), thread_external_id=name,
            likes=_count(data.get("score")), shares=_count(data.get("num_crossposts")),
            replies=_count(data.get("num_comments")), raw=dict(item),
        )
    if kind_code == "t1":
        inbox_type = data.get("type")
        kind = (PostKind.mention if inbox_type == "username_mention"
                else PostKind.reply if inbox_type in ("comment_reply", "post_reply")
                else PostKind.comment)
        link = data.get("permalink") or data.get("context")
        return IncomingPost(
            network=NETWORK, external_id=name, author=author, text=str(data["body"]),
            kind=kind, created_at=created, url=SITE + str(link) if link else None,
            parent_external_id=data.get("parent_id"), thread_external_id=_link_of(data),
            likes=_count(data.get("score")), raw=dict(item),
        )
    if kind_code == "t4":
        subject = data.get("subject") or ""
        body = str(data["body"])
        return IncomingPost(
            network=NETWORK, external_id=name, author=author,
            text=f"{subject}\n\n{body}" if subject else body,
            kind=PostKind.direct_message, created_at=created,
            parent_external_id=data.get("parent_id"),
            thread_external_id=data.get("first_message_name") or name, raw=dict(item),
        )
    raise ValueError(f"Reddit thing kind {kind_code!r} is not a post")


# -- the connector ------------------------------------------------------------------------


class RedditConnector:
    """Polls a Reddit account's inbox and the channel's subreddit searches; replies as it.

    settings: ``searches`` (list of ``{"subreddit": ..., "query": ...}``; subreddit ``all``
    searches everywhere), ``inbox`` (default true), ``user_agent``, ``page_size``,
    ``pm_subject`` (subject of a new private message). credentials: ``client_id``,
    ``client_secret`` and either ``username`` + ``password`` (script app) or
    ``refresh_token`` (installed/web app).
    """

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        if not credentials.get("client_id"):
            raise ConnectorError("Reddit channel has no client_id", retryable=False)
        self.credentials = dict(credentials)
        self.auth_url = (base_url or AUTH_URL).rstrip("/")
        self.api_url = (base_url or API_URL).rstrip("/")
        self.searches: list[dict[str, str]] = [dict(s) for s in settings.get("searches") or []]
        self.read_inbox = bool(settings.get("inbox", True))
        self.page_size = int(settings.get("page_size") or PAGE_SIZE)
        self.pm_subject = str(settings.get("pm_subject") or "Re:")
        who = credentials.get("username") or "ventanilla"
        self.user_agent = str(settings.get("user_agent") or f"ventanilla/0.1 (by /u/{who})")
        self._http = http or httpx.Client(timeout=30)
        self._token: str | None = None
        self._token_expires = 0.0
        self._me: str | None = None
        self.credential_store: CredentialStore | None = None

    # -- HTTP -----------------------------------------------------------------------------

    def _authorise(self) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        creds = self.credentials
        refresh = str(creds.get("refresh_token") or "")
        if refresh:
            form = {"grant_type": "refresh_token", "refresh_token": refresh}
        else:
            form = {"grant_type": "password", "username": str(creds.get("username") or ""),
                    "password": str(creds.get("password") or "")}
        try:
            response = self._send("POST", f"{self.auth_url}/api/v1/access_token", data=form,
                                  auth=(str(creds["client_id"]), str(creds.get("client_secret", ""))))
        except ConnectorError as exc:
            if exc.retryable:
                raise
            # 400 invalid_grant (revoked refresh token), 401 wrong client id or secret.
            what = "refresh token" if refresh else "credentials"
            raise AuthError(f"Reddit refused the {what}: {exc}") from exc
        body = _json(response)
        # Reddit answers a wrong password with HTTP 200 and {"error": "invalid_grant"}.
        if not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else body
            if refresh:
                raise AuthError(f"Reddit refused the refresh token ({error}): authorise the app "
                                "again and rotate the channel's refresh_token")
            raise AuthError(f"Reddit refused the credentials: {error}")
        rotated = body.get("refresh_token")
        if refresh and rotated and rotated != refresh:
            # Store a rotated refresh token at once: the old one may stop working.
            creds["refresh_token"] = str(rotated)
            if self.credential_store is not None:
                self.credential_store.save({"refresh_token": str(rotated)})
        self._token = str(body["access_token"])
        self._token_expires = time.monotonic() + float(body.get("expires_in", 3600)) - 60
        return self._token

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"User-Agent": self.user_agent, **kwargs.pop("headers", {})}
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"Reddit unreachable: {exc!r}", retryable=True) from exc
        raise_for_status(response.status_code, response.headers, response.text)
        return response

    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the OAuth API; a refused token is renewed once before it counts as AuthError."""
        for attempt in (1, 2):
            token = self._authorise()
            try:
                response = self._send(method, self.api_url + path,
                                      headers={"Authorization": f"bearer {token}"}, **kwargs)
            except AuthError:
                self._token = None
                if attempt == 2:
                    raise
                continue
            return _json(response)
        raise AssertionError("unreachable")

    def _own_name(self) -> str:
        """Our account's name, lower-cased (searches also find our own posts)."""
        name = self.credentials.get("username") or self._me_name()
        return str(name).lower()

    def _me_name(self) -> str:
        if self._me is None:
            self._me = str(self._api("GET", "/api/v1/me")["name"])
        return self._me

    # -- Connector --------------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> FetchResult:
        """One page of one source (the inbox, then each search, in turn).

        ``more`` stays true until every source was read up to date in this round. A search
        Reddit refuses (private or banned subreddit: 403/404) is skipped for the round with
        the reason, so it never stalls the inbox.
        """
        state = _load_cursor(cursor)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        sources: list[tuple[str, str, dict[str, str]]] = (
            [("inbox", "/message/inbox", {})] if self.read_inbox else []
        )
        for search in self.searches:
            sub = search.get("subreddit") or "all"
            sources.append((f"{sub}|{search['query']}", f"/r/{sub}/search",
                            {"q": search["query"], "restrict_sr": "1", "sort": "new"}))
        if not sources:
            return FetchResult([], cursor, False)
        index = int(state.get("_i") or 0) % len(sources)
        key, path, params = sources[index]
        try:
            children, source_more = self._page(path, params, state.get(key))
        except ConnectorError as exc:
            if key == "inbox" or not _refused(exc):
                raise
            skipped.append(Skipped({"source": key}, f"search refused, skipped this round: {exc}"))
            children, source_more = [], False
        newest = self._collect(children, posts, skipped)
        if newest is not None:
            state[key] = newest
        elif key not in state:
            # Read empty: later items are newer than now (anchorless, so by time).
            state[key] = {"name": None, "t": time.time()}
        if key != "inbox":
            own = self._own_name()
            posts = [p for p in posts if p.author.handle.lower() != own]
        state["_i"], more = next_source(index, len(sources), source_more)
        posts.sort(key=lambda p: p.created_at)
        return FetchResult(posts, json.dumps(state, sort_keys=True), more, skipped)

    def _page(
        self, path: str, params: dict[str, str], anchor: dict[str, Any] | None
    ) -> tuple[list[Any], bool]:
        query = {**params, "limit": str(self.page_size), "raw_json": "1"}
        if anchor is None:
            return _children(self._api("GET", path, params=query)), False
        if anchor["name"]:
            listing = self._api("GET", path, params={**query, "before": anchor["name"]})
            children = _children(listing)
            if children:
                return children, bool(listing.get("data", {}).get("before"))
        # Empty: nothing new, or the anchor was deleted. The newest page tells which.
        top = _children(self._api("GET", path, params=query))
        newer = [c for c in top if _created_of(c) > anchor["t"] and _name_of(c) != anchor["name"]]
        return newer, False

    @staticmethod
    def _collect(
        children: list[Any], posts: list[IncomingPost], skipped: list[Skipped]
    ) -> dict[str, Any] | None:
        """Normalise ``children`` into ``posts``; return the newest one's anchor."""
        newest: dict[str, Any] | None = None
        for child in children:
            name, created = _name_of(child), _created_of(child)
            if name and (newest is None or created >= newest["t"]):
                newest = {"name": name, "t": created}
            try:
                posts.append(normalise(child))
            except (KeyError, TypeError, ValueError, ValidationError) as exc:
                skipped.append(Skipped(child, f"malformed Reddit item: {exc!r}"))
        return newest

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Comment under the parent (or answer a private message); never post a reply twice.

        Reddit has no idempotency key, so before posting the account's newest comments (or
        sent messages) are checked for the same text under the same parent.
        """
        parent = reply.in_reply_to_external_id
        if reply.private and not (parent or "").startswith("t4_"):
            return self._compose(reply)
        if not parent:
            raise ConnectorError("a Reddit reply needs the parent's fullname", retryable=False)
        earlier = self._already_sent(
            f"/user/{self._me_name()}/comments" if not parent.startswith("t4_")
            else "/message/sent",
            lambda d: d.get("parent_id") == parent and d.get("body") == reply.text,
        )
        if earlier is not None:
            return earlier
        body = self._post("/api/comment", {"thing_id": parent, "text": reply.text})
        things = body.get("json", {}).get("data", {}).get("things") or []
        if not things:
            raise ConnectorError(f"Reddit accepted the reply but returned no id: {body}",
                                 retryable=False)
        data = things[0]["data"]
        link = data.get("permalink")
        return SentReceipt(str(data["name"]), SITE + link if link else None)

    def _compose(self, reply: OutgoingReply) -> SentReceipt:
        to = (reply.recipient_handle or "").removeprefix("u/").removeprefix("/u/")
        if not to:
            raise ConnectorError("a Reddit private message needs recipient_handle",
                                 retryable=False)
        earlier = self._already_sent(
            "/message/sent", lambda d: d.get("dest") == to and d.get("body") == reply.text
        )
        if earlier is not None:
            return earlier
        self._post("/api/compose", {"to": to, "subject": self.pm_subject, "text": reply.text})
        sent = self._already_sent(
            "/message/sent", lambda d: d.get("dest") == to and d.get("body") == reply.text
        )
        if sent is None:
            raise ConnectorError("Reddit accepted the message but it is not in sent",
                                 retryable=False)
        return sent

    def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            body = self._api("POST", path, data={**form, "api_type": "json"})
        except AuthError as exc:
            if "403" in str(exc):
                raise ConnectorError(f"Reddit forbids this reply (locked, archived or banned): "
                                     f"{exc}", retryable=False) from exc
            raise
        errors = body.get("json", {}).get("errors") if isinstance(body, dict) else None
        for code, message, *_ in errors or []:
            if code == "RATELIMIT":
                raise RateLimited(f"Reddit: {message}", _seconds_in(str(message)))
            raise ConnectorError(f"Reddit refused the reply: {code}: {message}", retryable=False)
        return body if isinstance(body, dict) else {}

    def _already_sent(self, path: str, same: Any) -> SentReceipt | None:
        listing = self._api("GET", path, params={"limit": "25", "sort": "new", "raw_json": "1"})
        for child in _children(listing):
            data = child.get("data") if isinstance(child, dict) else None
            if isinstance(data, dict) and same(data):
                link = data.get("permalink")
                return SentReceipt(str(data["name"]), SITE + link if link else None)
        return None

    def test(self) -> str:
        """Authorise and ask ``/api/v1/me``; return the account's name."""
        return self._me_name()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ConnectorError(f"Reddit answered no JSON (HTTP {response.status_code})",
                             retryable=True) from exc


def _children(listing: Any) -> list[Any]:
    data = listing.get("data") if isinstance(listing, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    return children if isinstance(children, list) else []


def _name_of(child: Any) -> str | None:
    data = child.get("data") if isinstance(child, dict) else None
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else None


def _created_of(child: Any) -> float:
    data = child.get("data") if isinstance(child, dict) else None
    value = data.get("created_utc") if isinstance(data, dict) else None
    return float(value) if isinstance(value, int | float) else 0.0


def _refused(error: ConnectorError) -> bool:
    """A source-specific refusal (403 private/banned, 404 gone), not the account's problem."""
    if isinstance(error, AuthError):
        return "HTTP 403" in str(error)
    return not error.retryable


def next_source(index: int, count: int, source_more: bool) -> tuple[int, bool]:
    """Which source the next ``fetch`` reads, and whether it should come at once (``more``)."""
    if source_more:
        return index, True
    following = index + 1
    return following % count, following < count


def _seconds_in(message: str) -> float:
    match = _TRY_AGAIN.search(message)
    if not match:
        return 60.0
    amount = float(match.group(1))
    return amount * 60 if match.group(2) == "minute" else amount


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"unreadable Reddit cursor {cursor!r}", retryable=False) from exc
    return dict(data)
