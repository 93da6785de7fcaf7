"""A simulated Reddit (token endpoint and OAuth API on one server) for the Reddit connector.

Listings are newest first with Reddit's ``before``/``after`` anchors: ``before=X`` answers
the ``limit`` items just newer than X and sets ``data.before`` when newer ones remain.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, json_response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors" / "reddit"
CLIENT_ID, CLIENT_SECRET = "cid-123", "secret-456"
USERNAME, PASSWORD = "aerolinea_oficial", "hunter2"


def fixture(name: str) -> Any:
    """A recorded, documented Reddit payload."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class RedditSim:
    """State and routes of a simulated Reddit, on top of a :class:`SimServer`."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.inbox: list[dict[str, Any]] = []
        self.searches: dict[str, list[dict[str, Any]]] = {}
        self.comments: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.rotate_refresh = False  # answer a new refresh token on each refresh
        self._seq = 0
        self._clock = 0.0
        self._lock = threading.Lock()
        server.expired_token_response = lambda: json_response(
            {"message": "Unauthorized", "error": 401}, 401
        )
        server.rate_limit_headers = lambda reset_in: {
            "x-ratelimit-used": "100", "x-ratelimit-remaining": "0.0",
            "x-ratelimit-reset": str(int(reset_in)),
        }
        server.rate_limit_body = {"message": "Too Many Requests", "error": 429}
        server.route("POST", "/api/v1/access_token", self._token)
        server.route("GET", "/api/v1/me", self._me)
        server.route("GET", "/message/inbox", lambda r: self._listing(r, self.inbox))
        server.route("GET", "/message/sent", lambda r: self._listing(r, self.sent))
        server.route("GET", "/r/*", self._search)
        server.route("GET", f"/user/{USERNAME}/comments", lambda r: self._listing(r, self.comments))
        server.route("POST", "/api/comment", self._comment)
        server.route("POST", "/api/compose", self._compose)

    # -- feeding ------------------------------------------------------------------------

    def _stamp(self) -> tuple[str, float]:
        with self._lock:
            self._seq += 1
            self._clock = max(self._clock + 1, time.time())  # live items are created now
            return f"{self._seq:07x}", self._clock

    def add_inbox_reply(self, body: str = "sin reembolso") -> dict[str, Any]:
        """Append a comment reply to the inbox (from the recorded one)."""
        item = fixture("inbox_comment_reply.json")
        ident, stamp = self._stamp()
        item["data"].update(id=ident, name=f"t1_{ident}", body=body, created=stamp,
                            created_utc=stamp)
        self.inbox.append(item)
        return item

    def add_message(self, body: str = "por privado") -> dict[str, Any]:
        """Append a private message to the inbox."""
        item = fixture("inbox_private_message.json")
        ident, stamp = self._stamp()
        item["data"].update(id=ident, name=f"t4_{ident}", body=body, created_utc=stamp)
        self.inbox.append(item)
        return item

    def add_submission(self, subreddit: str, title: str = "Retraso enorme") -> dict[str, Any]:
        """Append a submission that searches in ``subreddit`` find."""
        item = fixture("search_submission.json")
        ident, stamp = self._stamp()
        item["data"].update(id=ident, name=f"t3_{ident}", title=title, created_utc=stamp)
        self.searches.setdefault(subreddit, []).append(item)
        return item

    def add_raw_inbox(self, item: dict[str, Any]) -> None:
        """Append an inbox child exactly as given (for malformed items)."""
        self.inbox.append(item)

    # -- routes -------------------------------------------------------------------------

    def _auth(self, req: SimRequest) -> SimResponse | None:
        token = req.headers.get("authorization", "").removeprefix("bearer ")
        return None if token in self.tokens else self.server.expired_token_response()

    def _headers(self) -> dict[str, str]:
        return {"x-ratelimit-used": "1", "x-ratelimit-remaining": "599.0",
                "x-ratelimit-reset": "300"}

    def _token(self, req: SimRequest) -> SimResponse:
        basic = req.headers.get("authorization", "").removeprefix("Basic ")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if basic != expected:
            return json_response({"message": "Unauthorized", "error": 401}, 401)
        extra: dict[str, str] = {}
        if req.arg("grant_type") == "refresh_token":
            used = req.arg("refresh_token") or ""
            if used not in self.refresh_tokens:
                return json_response({"error": "invalid_grant"}, 400)
            if self.rotate_refresh:
                self.refresh_tokens.discard(used)
                extra["refresh_token"] = self.issue_refresh_token()
        elif req.arg("grant_type") != "password" or req.arg("username") != USERNAME \
                or req.arg("password") != PASSWORD:
            return json_response({"error": "invalid_grant"})  # Reddit's 200 for a bad password
        token = f"tok-{len(self.tokens)}-{self._seq}"
        self.tokens.add(token)
        return json_response({"access_token": token, "token_type": "bearer",
                              "expires_in": 86400, "scope": "*", **extra})

    def issue_refresh_token(self) -> str:
        """A refresh token the token endpoint accepts (an installed app's grant)."""
        token = f"refresh-{len(self.refresh_tokens)}-{self._seq}-SECRET"
        self._seq += 1
        self.refresh_tokens.add(token)
        return token

    def _me(self, req: SimRequest) -> SimResponse:
        return self._auth(req) or json_response(fixture("me.json"), headers=self._headers())

    def _listing(self, req: SimRequest, items: list[dict[str, Any]]) -> SimResponse:
        denied = self._auth(req)
        if denied:
            return denied
        limit = int(req.arg("limit") or 25)
        ordered = list(reversed(items))  # newest first
        names = [c.get("data", {}).get("name") for c in ordered]
        before, after = req.arg("before"), req.arg("after")
        if before:
            if before not in names:
                page, more_before = [], False
            else:
                newer = ordered[: names.index(before)]
                page = newer[-limit:]
                more_before = len(newer) > limit
        else:
            start = names.index(after) + 1 if after in names else 0
            page, more_before = ordered[start:start + limit], False
        data = {
            "after": None, "dist": len(page), "children": page,
            "before": page[0]["data"].get("name") if page and more_before else None,
        }
        return json_response({"kind": "Listing", "data": data}, headers=self._headers())

    def _search(self, req: SimRequest) -> SimResponse:
        subreddit = req.path_params[0]
        query = (req.arg("q") or "").lower()
        items = [i for i in self.searches.get(subreddit, [])
                 if query in json.dumps(i["data"], ensure_ascii=False).lower()]
        return self._listing(req, items)

    def _comment(self, req: SimRequest) -> SimResponse:
        denied = self._auth(req)
        if denied:
            return denied
        ident, stamp = self._stamp()
        thing = {"kind": "t1", "data": {
            "name": f"t1_{ident}", "id": ident, "author": USERNAME, "body": req.arg("text"),
            "parent_id": req.arg("thing_id"), "created_utc": stamp,
            "permalink": f"/r/spain/comments/1gv3x7q/x/{ident}/",
        }}
        self.comments.append(thing)
        return json_response({"json": {"errors": [], "data": {"things": [thing]}}},
                             headers=self._headers())

    def _compose(self, req: SimRequest) -> SimResponse:
        denied = self._auth(req)
        if denied:
            return denied
        ident, stamp = self._stamp()
        self.sent.append({"kind": "t4", "data": {
            "name": f"t4_{ident}", "id": ident, "author": USERNAME, "dest": req.arg("to"),
            "subject": req.arg("subject"), "body": req.arg("text"), "created_utc": stamp,
        }})
        return json_response({"json": {"errors": [], "data": {}}}, headers=self._headers())
