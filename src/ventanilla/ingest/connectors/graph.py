"""Meta Graph API bits shared by the Facebook Page and Instagram connectors.

Plain ``httpx``: the only maintained Meta SDK for Python, ``facebook-business``, is built for
the Marketing API (ads), on ``requests``, with the Graph host fixed in its session; the old
``facebook-sdk`` has had no release since 2018. The Graph calls we need are a handful of
GETs and POSTs.

Polling reads newest-first lists. A stream's state (inside the connector's JSON cursor) is a
*mark*: the newest ``created_time`` of the last finished sweep and the ids seen at exactly
that second. An item is new when it is later than the mark, or at the mark with an id not
seen. A sweep that spans pages keeps ``after`` (Graph ``paging.cursors.after``) and ``top``
(the newest time seen so far); the mark moves to ``top`` only when the sweep finishes, so a
restart between pages resumes at ``after`` and nothing is skipped or read twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    FetchResult,
    RateLimited,
    Skipped,
)
from ventanilla.ingest.connectors.http import raise_for_status, retry_after_from_headers
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"
# Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling).
TOKEN_CODES = {102, 190}
PERMISSION_CODES = {10, 200, 294}
THROTTLE_CODES = {4, 17, 32, 613}
TRANSIENT_CODES = {1, 2}


class GraphClient:
    """A Graph API caller that turns Graph errors into connector errors."""

    def __init__(
        self, network: str, token: str, *, base_url: str | None = None,
        version: str = DEFAULT_VERSION, http: httpx.Client | None = None,
    ) -> None:
        self.network = network
        self.token = token
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.version = version
        self.http = http or httpx.Client(timeout=30.0)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``GET /{version}/{path}`` with the access token."""
        return self._call("GET", path, params=dict(params or {}))

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /{version}/{path}`` with a JSON body and the access token."""
        return self._call("POST", path, body=dict(body))

    def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{self.version}/{path.lstrip('/')}"
        headers = {"authorization": f"Bearer {self.token}"}
        try:
            response = self.http.request(method, url, params=params, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"{self.network}: {exc!r}", retryable=True) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400 or (isinstance(data, dict) and "error" in data):
            raise_graph_error(self.network, response.status_code, response.headers, data,
                              response.text)
        if not isinstance(data, dict):
            raise ConnectorError(f"{self.network}: answer is not a JSON object", retryable=True)
        return data


def raise_graph_error(
    network: str, status: int, headers: Mapping[str, str], data: Any, text: str
) -> None:
    """Raise the connector error a Graph error means (codes first, then the HTTP status)."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        raise_for_status(status, headers, text)
        raise ConnectorError(f"{network}: HTTP {status}: {text[:300]}", retryable=True)
    code = error.get("code")
    message = f"{network}: Graph error {code}/{error.get('error_subcode')}: {error.get('message')}"
    if code in TOKEN_CODES or (error.get("type") == "OAuthException" and status == 401):
        raise AuthError(message)
    if code in THROTTLE_CODES or (isinstance(code, int) and 80001 <= code <= 80014):
        raise RateLimited(message, graph_retry_after(headers))
    if code in PERMISSION_CODES:
        raise AuthError(message)
    if code in TRANSIENT_CODES or error.get("is_transient") or status >= 500:
        raise ConnectorError(message, retryable=True)
    if status == 429:
        raise RateLimited(message, retry_after_from_headers(headers))
    raise ConnectorError(message, retryable=False)


def graph_retry_after(headers: Mapping[str, str]) -> float:
    """Seconds until access returns, from ``X-Business-Use-Case-Usage`` (minutes) if given."""
    lowered = {k.lower(): v for k, v in headers.items()}
    usage = lowered.get("x-business-use-case-usage")
    minutes = 0.0
    if usage:
        try:
            for entries in json.loads(usage).values():
                for entry in entries:
                    minutes = max(minutes, float(entry.get("estimated_time_to_regain_access", 0)))
        except (ValueError, AttributeError, TypeError):
            minutes = 0.0
    if minutes > 0:
        return minutes * 60.0
    return retry_after_from_headers(headers)


# -- webhooks ---------------------------------------------------------------------------------


def verify_signature(app_secret: str, body: bytes, header_value: str | None) -> bool:
    """Check ``X-Hub-Signature-256`` (``sha256=`` + hex HMAC-SHA256 of the raw body)."""
    if not header_value or not header_value.startswith("sha256=") or not app_secret:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header_value[7:].strip().lower().encode())


def signature_header(headers: Mapping[str, str]) -> str | None:
    """The ``X-Hub-Signature-256`` value, whatever the header case."""
    for name, value in headers.items():
        if name.lower() == "x-hub-signature-256":
            return value
    return None


def verification_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """Answer to the subscription ``GET``: ``hub.challenge`` when mode and token match."""
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


def load_webhook(network: str, body: bytes, expected_object: str) -> dict[str, Any]:
    """Parse a delivery and check its ``object`` (``page`` or ``instagram``)."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ConnectorError(f"{network} webhook: not JSON: {exc}", retryable=False) from exc
    if not isinstance(payload, dict) or payload.get("object") != expected_object:
        raise ConnectorError(
            f"{network} webhook: expected object={expected_object!r}", retryable=False
        )
    return payload


# -- time marks -------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime:
    """A Graph time (``2026-11-23T10:15:00+0000``) or a Unix time, as aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10_000_000_000 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str):
        raise ValueError("created_time missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _key(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def is_new(state: Mapping[str, Any], when: datetime, item_id: str) -> bool:
    """Whether an item is past the stream's mark."""
    mark = state.get("mark")
    if mark is None:
        return True
    key = _key(when)
    return key > mark or (key == mark and item_id not in state.get("mark_ids", []))


def note(state: dict[str, Any], when: datetime, item_id: str) -> None:
    """Remember an item taken in the current sweep (moves ``top``)."""
    key = _key(when)
    top = state.get("top")
    if top is None or key > top:
        state["top"], state["top_ids"] = key, [item_id]
    elif key == top and item_id not in state["top_ids"]:
        state["top_ids"].append(item_id)


def finish(state: dict[str, Any]) -> None:
    """End the sweep: the mark moves to the newest item taken."""
    top = state.pop("top", None)
    top_ids = state.pop("top_ids", [])
    state.pop("after", None)
    state.pop("pages", None)
    if top is None:
        return
    mark = state.get("mark")
    if mark == top:
        state["mark_ids"] = sorted(set(state.get("mark_ids", [])) | set(top_ids))
    elif mark is None or top > mark:
        state["mark"], state["mark_ids"] = top, sorted(top_ids)


def load_cursor(network: str, cursor: str | None) -> dict[str, Any]:
    """The JSON cursor ``{"turn": i, "streams": {...}}`` (empty on first sync)."""
    if not cursor:
        return {"turn": 0, "streams": {}}
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"{network}: unreadable cursor: {exc}", retryable=False) from exc
    if not isinstance(state, dict) or not isinstance(state.get("streams"), dict):
        raise ConnectorError(f"{network}: unreadable cursor", retryable=False)
    return state


def next_turn(state: dict[str, Any], finished: bool, count: int) -> bool:
    """Advance the round-robin after a page; return ``more`` (call fetch again now)."""
    if not finished:
        return True
    turn = int(state.get("turn", 0)) + 1
    if turn >= count:
        state["turn"] = 0
        return False
    state["turn"] = turn
    return True


def page_after(data: Mapping[str, Any]) -> str | None:
    """``paging.cursors.after`` when ``paging.next`` says another page exists."""
    paging = data.get("paging") or {}
    if not paging.get("next"):
        return None
    after = (paging.get("cursors") or {}).get("after")
    return str(after) if after else None


def fetch_post_list(
    client: GraphClient, path: str, params: Mapping[str, Any], state: dict[str, Any],
    normalise: Callable[[Mapping[str, Any]], IncomingPost], *, network: str,
) -> tuple[list[IncomingPost], list[Skipped], bool]:
    """One page of a newest-first list of posts (``visitor_posts``, ``tagged``, ``tags``).

    Returns the new posts, the skipped items and whether the sweep is finished.
    """
    query = dict(params)
    if state.get("after"):
        query["after"] = state["after"]
    data = client.get(path, query)
    posts: list[IncomingPost] = []
    skipped: list[Skipped] = []
    reached_old = False
    for item in data.get("data") or []:
        try:
            post = normalise(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(item, f"{network} post: {exc!r}"))
            continue
        if not is_new(state, post.created_at, post.external_id):
            reached_old = True
            continue
        note(state, post.created_at, post.external_id)
        posts.append(post)
    state["pages"] = int(state.get("pages", 0)) + 1
    after = page_after(data)
    if after and not reached_old and state.get("mark") is not None:
        state["after"] = after
        return posts, skipped, False
    finish(state)
    return posts, skipped, True


# -- conversations (Messenger and Instagram Direct share the Page's conversations edge) ----


MESSAGE_FIELDS = "id,message,created_time,from,to"


def fetch_conversations(
    client: GraphClient, page_id: str, own_ids: set[str], platform: str,
    state: dict[str, Any], *, page_size: int, network: str,
    brand: str | None = None, backfill_pages: int = 1,
) -> tuple[list[IncomingPost], list[Skipped], bool]:
    """One page of ``/{page-id}/conversations``: the new messages not sent by us.

    Conversations move to the top when a message arrives, so one global mark could skip a
    message whose conversation jumped above the sweep's page token. Each conversation keeps
    its own mark (``convs``: id → [time, ids at that time]); the global mark (the newest
    ``updated_time`` of the last sweep) only says where a sweep may stop. Conversation marks
    older than :data:`CONVERSATION_MEMORY` before the global mark are forgotten; a
    forgotten conversation takes only messages newer than that horizon.
    """
    params: dict[str, Any] = {
        "platform": platform,
        "fields": f"id,updated_time,messages.limit(25){{{MESSAGE_FIELDS}}}",
        "limit": page_size,
    }
    if state.get("after"):
        params["after"] = state["after"]
    data = client.get(f"{page_id}/conversations", params)
    convs: dict[str, Any] = state.setdefault("convs", {})
    horizon = _horizon(state.get("mark"))
    posts: list[IncomingPost] = []
    skipped: list[Skipped] = []
    reached_old = False
    for conversation in data.get("data") or []:
        try:
            updated = parse_time(conversation.get("updated_time"))
            conversation_id = str(conversation["id"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(conversation, f"{network} conversation: {exc!r}"))
            continue
        if state.get("mark") and _key(updated) < state["mark"]:
            reached_old = True
            break
        note(state, updated, conversation_id)
        conv_mark = convs.get(conversation_id)
        mark: dict[str, Any] = (
            {"mark": conv_mark[0], "mark_ids": conv_mark[1]} if conv_mark else {"mark": horizon}
        )
        taken: dict[str, Any] = (
            {"mark": conv_mark[0], "mark_ids": list(conv_mark[1])} if conv_mark else {}
        )
        for message in (conversation.get("messages") or {}).get("data") or []:
            try:
                when = parse_time(message.get("created_time"))
                message_id = str(message["id"])
                sender = message["from"]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(message, f"{network} message: {exc!r}"))
                continue
            if not is_new(mark, when, message_id):
                continue
            note(taken, when, message_id)
            if str(sender.get("id")) in own_ids:
                continue
            try:
                posts.append(normalise_message(message, conversation_id, network, brand))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(message, f"{network} message: {exc!r}"))
        if "top" in taken:
            finish(taken)
            convs[conversation_id] = [taken["mark"], taken["mark_ids"]]
    state["pages"] = int(state.get("pages", 0)) + 1
    after = page_after(data)
    first_sync = state.get("mark") is None
    if after and not reached_old and not (first_sync and state["pages"] >= backfill_pages):
        state["after"] = after
        return posts, skipped, False
    finish(state)
    forget = _horizon(state.get("mark"))
    if forget:
        state["convs"] = {k: v for k, v in convs.items() if v[0] >= forget}
    return posts, skipped, True


CONVERSATION_MEMORY = timedelta(days=7)


def _horizon(mark: str | None) -> str | None:
    if not mark:
        return None
    return _key(datetime.fromisoformat(mark).replace(tzinfo=UTC) - CONVERSATION_MEMORY)


def normalise_message(
    message: Mapping[str, Any], conversation_id: str, network: str, brand: str | None = None
) -> IncomingPost:
    """A Messenger / Instagram Direct message as an ``IncomingPost`` (direct_message)."""
    sender = message["from"]
    text = message.get("message")
    if not isinstance(text, str):
        raise ValueError("message has no text")
    handle = str(sender.get("username") or sender["id"])
    return IncomingPost(
        network=network,
        external_id=str(message["id"]),
        author=IncomingAuthor(handle=handle, display_name=sender.get("name")),
        text=text,
        kind=PostKind.direct_message,
        created_at=parse_time(message.get("created_time")),
        thread_external_id=conversation_id,
        brand=brand,
        raw={**message, "sender_id": str(sender["id"])},
    )


def messaging_event(
    event: Mapping[str, Any], network: str, own_ids: set[str], brand: str | None = None
) -> IncomingPost | None:
    """A webhook ``messaging`` entry (a message sent to us) as an ``IncomingPost``."""
    sender = str(event["sender"]["id"])
    message = event.get("message")
    if sender in own_ids or not isinstance(message, dict) or message.get("is_echo"):
        return None
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("message without text (attachment only)")
    return IncomingPost(
        network=network,
        external_id=str(message["mid"]),
        author=IncomingAuthor(handle=sender),
        text=text,
        kind=PostKind.direct_message,
        created_at=parse_time(event["timestamp"]),
        thread_external_id=sender,
        brand=brand,
        raw=dict(event),
    )


StreamRead = Callable[[str, dict[str, Any]], tuple[list[IncomingPost], list[Skipped], bool]]


def fetch_in_turn(network: str, cursor: str | None, streams: Sequence[str], read: StreamRead) -> FetchResult:
    """Read one page of the stream whose turn it is (Facebook and Instagram read several
    streams in rotation, each with its own mark kept in the cursor)."""
    state = load_cursor(network, cursor)
    if not streams:
        return FetchResult(posts=[], cursor=cursor, more=False)
    turn = int(state.get("turn", 0)) % len(streams)
    state["turn"] = turn
    name = streams[turn]
    stream: dict[str, Any] = dict(state["streams"].get(name) or {})
    posts, skipped, finished = read(name, stream)
    state["streams"][name] = stream
    more = next_turn(state, finished, len(streams))
    return FetchResult(posts=posts, cursor=dumps(state), more=more, skipped=skipped)


def empty_result(skipped: list[Skipped] | None = None) -> FetchResult:
    """A webhook result with nothing in it."""
    return FetchResult(posts=[], cursor=None, more=False, skipped=skipped or [])


def dumps(state: Mapping[str, Any]) -> str:
    """The cursor as compact JSON."""
    return json.dumps(state, separators=(",", ":"), sort_keys=True)
