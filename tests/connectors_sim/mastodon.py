"""A simulated Mastodon instance: notifications, hashtag timelines, posting, verify_credentials.

Items are built from the documented payloads in ``tests/fixtures/connectors/mastodon`` with
fresh, growing ids, so pagination by ``min_id`` / ``since_id`` / ``max_id`` behaves like the
real API (newest first, ``limit`` items next to the bound). The streaming API (Server-Sent
Events) is served by ``mastodon_streaming.py``; what is added here is published to it
unless ``push=False`` (a post that arrives while no stream is connected).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, json_response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors" / "mastodon"
TOKEN = "mastodon-test-token"


def fixture(name: str) -> Any:
    """A recorded, documented Mastodon payload."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class MastodonSim:
    """State and routes of one simulated instance, on top of a :class:`SimServer`."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.notifications: list[dict[str, Any]] = []
        self.tags: dict[str, list[dict[str, Any]]] = {}
        self.posted: list[dict[str, Any]] = []
        self._by_key: dict[str, dict[str, Any]] = {}
        self._next_id = 110_000_000_000_000_000
        self._clock = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()
        # Streaming servers listening to this instance: publish(event, payload, hashtag or None).
        self.publishers: list[Callable[[str, dict[str, Any], str | None], None]] = []
        server.expired_token_response = lambda: json_response(
            {"error": "The access token is invalid"}, 401
        )
        server.rate_limit_headers = lambda reset_in: {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": (datetime.now(UTC) + timedelta(seconds=reset_in)).isoformat(
                timespec="milliseconds"
            ).replace("+00:00", "Z"),
        }
        server.rate_limit_body = {"error": "Too many requests"}
        server.route("GET", "/api/v1/notifications", self._notifications)
        server.route("GET", "/api/v1/timelines/tag/*", self._tag)
        server.route("POST", "/api/v1/statuses", self._post_status)
        server.route("GET", "/api/v1/accounts/verify_credentials", self._me)

    # -- feeding ------------------------------------------------------------------------

    def _new_id(self) -> str:
        with self._lock:
            self._next_id += 1
            self._clock += timedelta(seconds=7)
            return str(self._next_id)

    def _publish(self, event: str, payload: dict[str, Any], tag: str | None = None) -> None:
        for publish in list(self.publishers):
            publish(event, copy.deepcopy(payload), tag)

    def add_mention(self, text: str = "mi maleta no llegó", *, push: bool = True,
                    **status: Any) -> dict[str, Any]:
        """Append a mention notification (built from the recorded one) and push it on the
        streams (unless ``push`` is false); return it."""
        item = fixture("notification_mention.json")
        item["id"] = self._new_id()
        item["status"]["id"] = self._new_id()
        item["status"]["content"] = f"<p>{text}</p>"
        item["status"]["created_at"] = self._clock.isoformat().replace("+00:00", "Z")
        item["status"].update(status)
        self.notifications.append(item)
        if push:
            self._publish("notification", item)
        return item

    def add_tagged(self, tag: str, text: str = "otra queja", *, push: bool = True,
                   **status: Any) -> dict[str, Any]:
        """Append a status to ``#tag``'s timeline (pushed on its stream unless ``push`` is
        false); return it."""
        item = fixture("status_hashtag_reply.json")
        item["id"] = self._new_id()
        item["content"] = f"<p>{text}</p>"
        item["created_at"] = self._clock.isoformat().replace("+00:00", "Z")
        item.update(status)
        self.tags.setdefault(tag, []).append(item)
        if push:
            self._publish("update", item, tag)
        return item

    def add_raw_notification(self, item: dict[str, Any]) -> None:
        """Append a notification exactly as given (for malformed items)."""
        item.setdefault("id", self._new_id())
        self.notifications.append(item)

    # -- routes -------------------------------------------------------------------------

    def _authorised(self, req: SimRequest) -> bool:
        return req.headers.get("authorization") == f"Bearer {TOKEN}"

    def _headers(self) -> dict[str, str]:
        # No X-RateLimit-Reset on ordinary answers: SimServer sends its Date header twice,
        # which Mastodon.py cannot parse when it adjusts a reset time to the server clock.
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299"}

    def _page(self, req: SimRequest, items: list[dict[str, Any]]) -> SimResponse:
        if not self._authorised(req):
            return self.server.expired_token_response()
        limit = min(int(req.arg("limit") or 20), 40)
        key = lambda item: (len(str(item["id"])), str(item["id"]))  # noqa: E731
        ordered = sorted(items, key=key)
        min_id, since_id, max_id = req.arg("min_id"), req.arg("since_id"), req.arg("max_id")
        if max_id:
            ordered = [i for i in ordered if key(i) < (len(max_id), max_id)]
        lower = min_id or since_id
        if lower:
            ordered = [i for i in ordered if key(i) > (len(lower), lower)]
        page = ordered[:limit] if min_id else ordered[-limit:]
        return json_response(list(reversed(page)), headers=self._headers())

    def _notifications(self, req: SimRequest) -> SimResponse:
        types = req.query.get("types[]") or req.query.get("types") or []
        items = [n for n in self.notifications if not types or n.get("type") in types]
        return self._page(req, items)

    def _tag(self, req: SimRequest) -> SimResponse:
        return self._page(req, self.tags.get(req.path_params[0], []))

    def _post_status(self, req: SimRequest) -> SimResponse:
        if not self._authorised(req):
            return self.server.expired_token_response()
        key = req.headers.get("idempotency-key")
        if key and key in self._by_key:
            return json_response(self._by_key[key], headers=self._headers())
        body = req.json() if "json" in req.headers.get("content-type", "") else {
            k: v[0] for k, v in req.form().items()
        }
        status = copy.deepcopy(fixture("status_hashtag_reply.json"))
        status.update(
            id=self._new_id(),
            content=f"<p>{body.get('status')}</p>",
            in_reply_to_id=body.get("in_reply_to_id"),
            visibility=body.get("visibility", "public"),
            url=f"https://brand.example/@aerolinea/{self._next_id}",
            account=fixture("account_verify_credentials.json"),
        )
        self.posted.append({"form": body, "idempotency_key": key, "status": status})
        if key:
            self._by_key[key] = status
        return json_response(status, headers=self._headers())

    def _me(self, req: SimRequest) -> SimResponse:
        if not self._authorised(req):
            return self.server.expired_token_response()
        return json_response(fixture("account_verify_credentials.json"), headers=self._headers())
