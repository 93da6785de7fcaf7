"""A simulated Bluesky PDS (with the app.bsky views it proxies) for the Bluesky connector.

Sessions carry real-looking (unsigned) JWTs with an ``exp``, because the SDK reads it to
decide when to refresh. Feeds are newest first; cursors are the ``indexedAt`` of a page's last
item, so they stay put when new posts arrive, like the real service's.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, json_response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors" / "bluesky"
HANDLE = "aerolinea.example.com"
PASSWORD = "abcd-efgh-ijkl-mnop"
BRAND_DID = "did:plc:brand0000000000000000000"


def fixture(name: str) -> Any:
    """A recorded, documented Bluesky payload."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(scope: str, ttl: float = 7200) -> str:
    """An unsigned JWT shaped like the PDS's (the client never verifies it)."""
    now = int(time.time())
    header = {"typ": "at+jwt", "alg": "ES256K"}
    payload = {"scope": scope, "sub": BRAND_DID, "iat": now, "exp": now + int(ttl),
               "aud": "did:web:pds.example", "jti": f"{scope}-{time.monotonic_ns()}"}
    return f"{_b64(header)}.{_b64(payload)}.c2lnbmF0dXJl"


class BlueskySim:
    """State and routes of one simulated PDS, on top of a :class:`SimServer`."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.notifications: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.records: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.logins = 0  # createSession calls (the PDS allows few a day)
        self.refreshes = 0
        self._clock = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        self._seq = 0
        self._lock = threading.Lock()
        server.expired_token_response = lambda: json_response(
            {"error": "ExpiredToken", "message": "Token has expired"}, 400
        )
        server.rate_limit_headers = lambda reset_in: {
            "ratelimit-limit": "3000", "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(time.time() + reset_in)),
            "ratelimit-policy": "3000;w=300",
        }
        server.rate_limit_body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
        x = "/xrpc/"
        server.route("POST", x + "com.atproto.server.createSession", self._create_session)
        server.route("POST", x + "com.atproto.server.refreshSession", self._refresh_session)
        server.route("GET", x + "com.atproto.server.getSession", self._get_session)
        server.route("GET", x + "app.bsky.notification.listNotifications", self._notifications)
        server.route("GET", x + "app.bsky.feed.searchPosts", self._search)
        server.route("GET", x + "app.bsky.feed.getPosts", self._get_posts)
        server.route("GET", x + "com.atproto.repo.getRecord", self._get_record)
        server.route("POST", x + "com.atproto.repo.createRecord", self._create_record)

    # -- feeding ------------------------------------------------------------------------

    def _next(self) -> tuple[str, str]:
        with self._lock:
            self._seq += 1
            self._clock += timedelta(seconds=3)
            stamp = self._clock.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            return f"3lbq{self._seq:09d}", stamp

    def add_notification(self, text: str = "sin reembolso", **fields: Any) -> dict[str, Any]:
        """Append a reply notification (from the recorded one) with a fresh URI and time."""
        item = fixture("notification_reply.json")
        rkey, stamp = self._next()
        item["uri"] = f"at://{item['author']['did']}/app.bsky.feed.post/{rkey}"
        item["record"]["text"] = text
        item["record"]["createdAt"] = stamp
        item["indexedAt"] = stamp
        item.update(fields)
        self.notifications.append(item)
        self.posts.append({**item, "likeCount": 0})
        return item

    def add_post(self, text: str = "atrapados en Barajas", **fields: Any) -> dict[str, Any]:
        """Append a searchable post (from the recorded postView)."""
        item = fixture("post_view_search.json")
        rkey, stamp = self._next()
        item["uri"] = f"at://{item['author']['did']}/app.bsky.feed.post/{rkey}"
        item["record"]["text"] = text
        item["record"]["createdAt"] = stamp
        item["indexedAt"] = stamp
        item.update(fields)
        self.posts.append(item)
        return item

    def add_raw_notification(self, item: dict[str, Any]) -> None:
        """Append a notification exactly as given (for malformed items)."""
        _, stamp = self._next()
        item.setdefault("indexedAt", stamp)
        self.notifications.append(item)

    # -- routes -------------------------------------------------------------------------

    def _auth(self, req: SimRequest) -> SimResponse | None:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return json_response({"error": "InvalidToken", "message": "Bad token"}, 400)
        return None

    def _session(self) -> dict[str, Any]:
        session = fixture("create_session.json")
        session["accessJwt"] = fake_jwt("com.atproto.access")
        session["refreshJwt"] = fake_jwt("com.atproto.refresh", ttl=86400)
        self.tokens.update({session["accessJwt"]})
        self.refresh_tokens.add(session["refreshJwt"])
        return session

    def _create_session(self, req: SimRequest) -> SimResponse:
        body = req.json()
        if body.get("identifier") != HANDLE or body.get("password") != PASSWORD:
            return json_response({"error": "AuthenticationRequired",
                                  "message": "Invalid identifier or password"}, 401)
        self.logins += 1
        return json_response(self._session())

    def _refresh_session(self, req: SimRequest) -> SimResponse:
        used = req.headers.get("authorization", "").removeprefix("Bearer ")
        if used not in self.refresh_tokens:
            return json_response({"error": "ExpiredToken", "message": "Token has been revoked"}, 400)
        self.refresh_tokens.discard(used)  # refresh JWTs rotate
        self.refreshes += 1
        return json_response(self._session())

    def _get_session(self, req: SimRequest) -> SimResponse:
        return self._auth(req) or json_response(
            {k: v for k, v in self._session().items() if not k.endswith("Jwt")}
        )

    def _page(self, req: SimRequest, items: list[dict[str, Any]], key: str) -> SimResponse:
        limit = int(req.arg("limit") or 50)
        ordered = sorted(items, key=lambda i: i["indexedAt"], reverse=True)
        cursor = req.arg("cursor")
        if cursor:
            ordered = [i for i in ordered if i["indexedAt"] < cursor]
        page = ordered[:limit]
        body: dict[str, Any] = {key: page}
        if len(ordered) > limit:
            body["cursor"] = page[-1]["indexedAt"]
        return json_response(body, headers={"ratelimit-remaining": "2999"})

    def _notifications(self, req: SimRequest) -> SimResponse:
        reasons = req.query.get("reasons") or []
        items = [n for n in self.notifications if not reasons or n.get("reason") in reasons]
        return self._auth(req) or self._page(req, items, "notifications")

    def _search(self, req: SimRequest) -> SimResponse:
        query = (req.arg("q") or "").lower()
        items = [p for p in self.posts if query in p["record"]["text"].lower()]
        return self._auth(req) or self._page(req, items, "posts")

    def _get_posts(self, req: SimRequest) -> SimResponse:
        wanted = req.query.get("uris") or []
        found = [p for p in self.posts if p["uri"] in wanted]
        found += [r["view"] for r in self.records.values() if r["view"]["uri"] in wanted]
        return self._auth(req) or json_response({"posts": found})

    def _get_record(self, req: SimRequest) -> SimResponse:
        uri = f"at://{req.arg('repo')}/{req.arg('collection')}/{req.arg('rkey')}"
        if uri not in self.records:
            return self._auth(req) or json_response(
                {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"}, 400
            )
        rec = self.records[uri]
        return self._auth(req) or json_response(
            {"uri": uri, "cid": rec["cid"], "value": rec["record"]}
        )

    def _create_record(self, req: SimRequest) -> SimResponse:
        denied = self._auth(req)
        if denied:
            return denied
        body = req.json()
        rkey = body.get("rkey") or self._next()[0]
        uri = f"at://{body['repo']}/{body['collection']}/{rkey}"
        if uri in self.records:
            return json_response({"error": "InvalidRequest", "message": "Record exists"}, 400)
        cid = f"bafyreisim{len(self.records):040d}"
        view = {"uri": uri, "cid": cid, "record": body["record"], "indexedAt": self._next()[1],
                "author": {"did": BRAND_DID, "handle": HANDLE}}
        self.records[uri] = {"cid": cid, "record": body["record"], "view": view}
        self.created.append(body)
        return json_response({"uri": uri, "cid": cid,
                              "commit": {"cid": "bafyreicommit", "rev": "3lbqrev"},
                              "validationStatus": "valid"})
