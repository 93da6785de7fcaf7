"""The X API v2 connector: mentions, recent search and DMs in; replies and DMs out.

Plain ``httpx`` rather than tweepy: tweepy's ``Client.request`` hard-codes the host
(``https://api.twitter.com``), so it cannot be pointed at a local simulator, and it brings
``requests`` along for four endpoints.

Cursor (JSON): ``{"turn": i, "streams": {name: state}}``. One ``fetch`` reads one page of
one stream (``mentions``, ``search``, ``dms``, in turn) so a rate limit on one endpoint never
throws away a page already read from another. For ``mentions`` and ``search`` the state is
``since_id`` (the newest id of the last finished sweep), ``next`` (pagination token of the
sweep in progress) and ``top`` (newest id seen in it): a sweep pages backwards from the
newest tweet to ``since_id`` and only then moves ``since_id``, so a restart between pages
resumes at ``next`` and tweets arriving meanwhile are picked up by the next sweep. The DM
endpoint has no ``since_id``: the same state is kept and pages are read until an event id
at or below ``since_id`` shows up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

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
from ventanilla.ingest.connectors.oauth import OAuth2Refresh
from ventanilla.ingest.connectors.x.items import (
    NETWORK,
    normalise_dm,
    normalise_tweet,
    parse_account_activity,
    users_by_id,
)
from ventanilla.ingest.connectors.x.signing import (
    crc_response_token,
    oauth1_header,
    verify_signature,
)
from ventanilla.ingest.schema import IncomingPost

DEFAULT_BASE_URL = "https://api.x.com"
TWEET_FIELDS = (
    "id,text,author_id,conversation_id,created_at,lang,public_metrics,referenced_tweets,"
    "in_reply_to_user_id"
)
USER_FIELDS = "id,name,username,verified,public_metrics"
DM_FIELDS = "id,text,event_type,created_at,sender_id,dm_conversation_id"
STREAMS = ("mentions", "search", "dms")


class XConnector:
    """The X API v2 connector (``Connector`` and ``WebhookReceiver``).

    settings: ``user_id`` (the account's numeric id; looked up once when missing),
    ``search_query`` (recent-search query, e.g. ``"acme -is:retweet"``; no search stream
    without it), ``streams`` (subset of mentions/search/dms), ``page_size`` (5..100),
    ``brand``. credentials: either OAuth 1.0a user context (``consumer_key``,
    ``consumer_secret``, ``access_token``, ``access_token_secret``; never expires) or an
    OAuth 2.0 user ``access_token`` (two hours) with ``refresh_token`` and ``client_id`` (and
    ``client_secret`` for confidential clients) to renew it, ``expires_at`` kept by the
    connector; ``consumer_secret`` also signs webhooks. Renewed tokens go to
    ``credential_store`` (refresh tokens rotate on every use).
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
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.http = http or httpx.Client(timeout=30.0)
        self._user_id: str | None = self.settings.get("user_id")
        wanted = self.settings.get("streams") or list(STREAMS)
        if not self.settings.get("search_query"):
            wanted = [s for s in wanted if s != "search"]
        self.streams = [s for s in STREAMS if s in wanted]
        self.page_size = int(self.settings.get("page_size", 100))
        self.credential_store: CredentialStore | None = None
        self._oauth2 = OAuth2Refresh(
            network="x", http=self.http, token_url=self.base_url + "/2/oauth2/token",
            credentials=self.credentials,
            client_auth="basic" if self.credentials.get("client_secret") else "body",
            store=lambda: self.credential_store,
        )

    # -- HTTP -------------------------------------------------------------------------------

    def _oauth1(self) -> bool:
        return bool(self.credentials.get("access_token_secret") and self.credentials.get("consumer_key"))

    def _request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None, sending: bool = False,
    ) -> dict[str, Any]:
        if self._oauth1():
            return self._request_once(method, path, params, body, sending)
        # OAuth 2.0 user tokens last two hours: renew with the refresh token and retry once.
        return self._oauth2.authorised(lambda: self._request_once(method, path, params, body, sending))

    def _request_once(
        self, method: str, path: str, params: dict[str, Any] | None, body: dict[str, Any] | None,
        sending: bool,
    ) -> dict[str, Any]:
        request = self.http.build_request(
            method, self.base_url + path, params=params, json=body
        )
        request.headers["authorization"] = self._authorization(method, request.url)
        try:
            response = self.http.send(request)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"x: {exc!r}", retryable=True) from exc
        if response.status_code == 403 and sending:
            # On X a 403 when posting is a refusal of this reply (duplicate text, reply
            # settings, protected account), not a credentials problem: do not park the channel.
            raise ConnectorError(f"x: reply refused: {response.text[:300]}", retryable=False)
        raise_for_status(response.status_code, response.headers, response.text)
        try:
            data = response.json()
        except ValueError as exc:
            raise ConnectorError("x: answer is not JSON", retryable=True) from exc
        if not isinstance(data, dict):
            raise ConnectorError("x: answer is not a JSON object", retryable=True)
        return data

    def _authorization(self, method: str, url: httpx.URL) -> str:
        creds = self.credentials
        if self._oauth1():
            return oauth1_header(
                method, str(url), creds["consumer_key"], creds["consumer_secret"],
                creds["access_token"], creds["access_token_secret"],
            )
        token = creds.get("access_token") or creds.get("bearer_token")
        if not token:
            raise AuthError("x: no access_token in the channel's credentials")
        return f"Bearer {token}"

    def user_id(self) -> str:
        """The account's numeric id (from settings, else ``GET /2/users/me`` once)."""
        if self._user_id is None:
            self._user_id = str(self._me()["id"])
        return self._user_id

    def _me(self) -> dict[str, Any]:
        data = self._request("GET", "/2/users/me", params={"user.fields": USER_FIELDS})
        me = data.get("data")
        if not isinstance(me, dict) or "id" not in me:
            raise ConnectorError("x: /2/users/me answered without data.id", retryable=True)
        return me

    # -- Connector --------------------------------------------------------------------------

    def test(self) -> str:
        """Check the credentials; return ``@username``."""
        return "@" + str(self._me().get("username", ""))

    def fetch(self, cursor: str | None) -> FetchResult:
        """Read one page of the stream whose turn it is; ``more`` while the round goes on."""
        state = _load_cursor(cursor)
        if not self.streams:
            return FetchResult(posts=[], cursor=json.dumps(state), more=False)
        turn = int(state.get("turn", 0)) % len(self.streams)
        name = self.streams[turn]
        stream = dict(state["streams"].get(name) or {})
        if name == "dms":
            posts, skipped, finished = self._fetch_dms(stream)
        else:
            posts, skipped, finished = self._fetch_tweets(name, stream)
        state["streams"][name] = stream
        more = True
        if finished:
            turn += 1
            if turn >= len(self.streams):
                turn, more = 0, False
        state["turn"] = turn
        return FetchResult(posts=posts, cursor=json.dumps(state), more=more, skipped=skipped)

    def _fetch_tweets(
        self, name: str, stream: dict[str, Any]
    ) -> tuple[list[IncomingPost], list[Skipped], bool]:
        params: dict[str, Any] = {
            "max_results": max(10 if name == "search" else 5, min(100, self.page_size)),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if stream.get("since_id"):
            params["since_id"] = stream["since_id"]
        if name == "mentions":
            path = f"/2/users/{self.user_id()}/mentions"
            if stream.get("next"):
                params["pagination_token"] = stream["next"]
        else:
            path = "/2/tweets/search/recent"
            params["query"] = self.settings["search_query"]
            if stream.get("next"):
                params["next_token"] = stream["next"]
        floor = 0
        try:
            data = self._request("GET", path, params=params)
        except ConnectorError as exc:
            # Recent search refuses a since_id older than its 7-day window (HTTP 400): start
            # a fresh sweep from the newest page rather than stall the stream for ever.
            if exc.retryable or "since_id" not in str(exc) or "since_id" not in params:
                raise
            floor = int(params["since_id"])  # still drop what the old sweeps took
            for key in ("since_id", "next_token", "pagination_token"):
                params.pop(key, None)
            for key in ("since_id", "next", "top"):
                stream.pop(key, None)
            data = self._request("GET", path, params=params)
        users = users_by_id(data)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        me = self._user_id
        for item in data.get("data") or []:
            try:
                post = normalise_tweet(item, users, brand=self.settings.get("brand"))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(item, f"x tweet: {exc!r}"))
                continue
            if me is not None and item.get("author_id") == me:
                continue  # our own tweet (search finds them too)
            if int(post.external_id) <= floor:
                continue
            posts.append(post)
        meta = data.get("meta") or {}
        _raise_top(stream, meta.get("newest_id"))
        next_token = meta.get("next_token")
        first_sync = not stream.get("since_id")
        if next_token and not first_sync:
            stream["next"] = next_token
            return posts, skipped, False
        # First sync reads only the newest page: a desk starts listening now, not backfilling.
        if stream.get("top"):
            stream["since_id"] = stream["top"]
        stream.pop("next", None)
        stream.pop("top", None)
        return posts, skipped, True

    def _fetch_dms(
        self, stream: dict[str, Any]
    ) -> tuple[list[IncomingPost], list[Skipped], bool]:
        params: dict[str, Any] = {
            "max_results": max(1, min(100, self.page_size)),
            "dm_event.fields": DM_FIELDS,
            "event_types": "MessageCreate",
            "expansions": "sender_id",
            "user.fields": USER_FIELDS,
        }
        if stream.get("next"):
            params["pagination_token"] = stream["next"]
        data = self._request("GET", "/2/dm_events", params=params)
        users = users_by_id(data)
        since = int(stream.get("since_id") or 0)
        me = self.user_id()
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        reached_known = False
        for item in data.get("data") or []:
            try:
                event_id = int(item["id"])
            except (KeyError, TypeError, ValueError):
                skipped.append(Skipped(item, "x dm event: missing or non-numeric id"))
                continue
            if event_id <= since:
                reached_known = True
                continue
            _raise_top(stream, str(event_id))
            if item.get("event_type", "MessageCreate") != "MessageCreate":
                continue
            if item.get("sender_id") == me:
                continue  # a message we sent
            try:
                posts.append(normalise_dm(item, users, brand=self.settings.get("brand")))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(item, f"x dm event: {exc!r}"))
        next_token = (data.get("meta") or {}).get("next_token")
        if next_token and not reached_known and since:
            stream["next"] = next_token
            return posts, skipped, False
        if stream.get("top"):
            stream["since_id"] = stream["top"]
        stream.pop("next", None)
        stream.pop("top", None)
        return posts, skipped, True

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Post a public reply (``POST /2/tweets``) or a DM (``POST /2/dm_conversations``).

        X v2 takes no idempotency key; exactly-once comes from the outbox (it records
        "sending" before this call and the receipt after), and X itself refuses a second
        tweet with identical text, which surfaces here as a non-retryable ``ConnectorError``.
        """
        if reply.private:
            return self._send_dm(reply)
        body: dict[str, Any] = {"text": reply.text}
        if reply.in_reply_to_external_id:
            body["reply"] = {"in_reply_to_tweet_id": reply.in_reply_to_external_id}
        data = self._request("POST", "/2/tweets", body=body, sending=True)
        tweet_id = str((data.get("data") or {}).get("id") or "")
        if not tweet_id:
            raise ConnectorError("x: POST /2/tweets answered without data.id", retryable=False)
        return SentReceipt(external_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")

    def _send_dm(self, reply: OutgoingReply) -> SentReceipt:
        body = {"text": reply.text}
        if reply.thread_external_id:
            path = f"/2/dm_conversations/{reply.thread_external_id}/messages"
        elif reply.recipient_handle:
            handle = reply.recipient_handle.lstrip("@")
            if not handle.isdigit():
                found = self._request("GET", f"/2/users/by/username/{handle}")
                handle = str((found.get("data") or {}).get("id") or "")
                if not handle:
                    raise ConnectorError(f"x: no user @{reply.recipient_handle}", retryable=False)
            path = f"/2/dm_conversations/with/{handle}/messages"
        else:
            raise ConnectorError("x: a DM needs a conversation or a recipient", retryable=False)
        data = self._request("POST", path, body=body, sending=True)
        event_id = str((data.get("data") or {}).get("dm_event_id") or "")
        if not event_id:
            raise ConnectorError("x: DM answered without data.dm_event_id", retryable=False)
        return SentReceipt(external_id=event_id)

    # -- webhooks (Account Activity API) ----------------------------------------------------

    def crc_response(self, crc_token: str) -> dict[str, str]:
        """The JSON body answering X's CRC check (``GET ?crc_token=...``)."""
        return {"response_token": crc_response_token(self._consumer_secret(), crc_token)}

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Check ``x-twitter-webhooks-signature`` against the consumer secret."""
        lowered = {k.lower(): v for k, v in headers.items()}
        given = lowered.get("x-twitter-webhooks-signature", "")
        return verify_signature(self._consumer_secret(), body, given)

    def parse_webhook(self, body: bytes) -> FetchResult:
        """Normalise an Account Activity delivery (tweet_create_events, DM events)."""
        return parse_account_activity(body, own_user_id=self._user_id,
                                      brand=self.settings.get("brand"))

    def _consumer_secret(self) -> str:
        secret = self.credentials.get("consumer_secret")
        if not secret:
            raise AuthError("x: webhooks need the app's consumer_secret")
        return secret



# -- cursor -----------------------------------------------------------------------------------


def _raise_top(stream: dict[str, Any], tweet_id: str | None) -> None:
    if tweet_id and (not stream.get("top") or int(tweet_id) > int(stream["top"])):
        stream["top"] = str(tweet_id)


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"turn": 0, "streams": {}}
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"x: unreadable cursor: {exc}", retryable=False) from exc
    if not isinstance(state, dict) or not isinstance(state.get("streams"), dict):
        raise ConnectorError("x: unreadable cursor", retryable=False)
    return state
