"""A simulated X API v2: mentions, recent search, DM events, posting, in documented shapes.

Tweets are served newest first, ``since_id`` filtered, ``max_results`` at a time with an
opaque ``next_token``; every answer carries ``x-rate-limit-*`` headers; 401 and 429 bodies
are X's problem-details JSON.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
from pathlib import Path
from typing import Any

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, json_response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors" / "x"
ACCOUNT_ID = "1480000000000000001"
ACCOUNT = {"id": ACCOUNT_ID, "name": "Acme Ayuda", "username": "AcmeAyuda", "verified": True,
           "public_metrics": {"followers_count": 48210, "following_count": 120,
                              "tweet_count": 9120, "listed_count": 88}}


def fixture(name: str) -> Any:
    """A recorded X payload from ``tests/fixtures/connectors/x``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _token(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def _untoken(token: str) -> int:
    padded = token + "=" * (-len(token) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().split(":", 1)[1])


class XSim:
    """State and routes of a simulated X account."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.mentions: list[dict[str, Any]] = []
        self.search: list[dict[str, Any]] = []
        self.dm_events: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {ACCOUNT_ID: ACCOUNT}
        self.posted: list[dict[str, Any]] = []
        self.search_window_start = 0  # since_id below this is "older than 7 days"
        self._ids = itertools.count(1_860_000_000_000_000_000)
        server.expired_token_response = lambda: json_response(
            {"title": "Unauthorized", "type": "about:blank", "status": 401,
             "detail": "Unauthorized"}, 401)
        server.rate_limit_headers = lambda reset_in: {
            "x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time() + reset_in)),
        }
        server.rate_limit_body = {"title": "Too Many Requests", "detail": "Too Many Requests",
                                  "type": "about:blank", "status": 429}
        server.route("GET", "/2/users/me", self._me)
        server.route("GET", "/2/users/by/username/*", self._by_username)
        server.route("GET", "/2/users/*", self._user_timeline)
        server.route("GET", "/2/tweets/search/recent", self._search)
        server.route("GET", "/2/dm_events", self._dm_events)
        server.route("POST", "/2/tweets", self._post_tweet)
        server.route("POST", "/2/dm_conversations/*", self._post_dm)
        for user in fixture("users.json"):
            self.users[user["id"]] = user

    # -- filling ----------------------------------------------------------------------------

    def load_mentions(self) -> list[dict[str, Any]]:
        """Add the recorded mentions (fixtures/x/mentions.json); return them."""
        tweets = fixture("mentions.json")
        self.mentions.extend(tweets)
        return tweets

    def add_mention(self, text: str, author_id: str = "2244994945",
                    reply_to: str | None = None, **extra: Any) -> dict[str, Any]:
        """A new mention, newer than everything so far."""
        tweet_id = str(next(self._ids))
        tweet: dict[str, Any] = {
            "id": tweet_id, "text": text, "author_id": author_id,
            "conversation_id": reply_to or tweet_id,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "lang": "es", "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1,
                               "quote_count": 0, "bookmark_count": 0, "impression_count": 12},
        }
        if reply_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            tweet["in_reply_to_user_id"] = ACCOUNT_ID
        tweet.update(extra)
        self.mentions.append(tweet)
        return tweet

    def add_dm(self, text: str, sender_id: str = "2244994945") -> dict[str, Any]:
        """A new DM event from ``sender_id`` to the account."""
        event_id = str(next(self._ids))
        low, high = sorted([int(sender_id), int(ACCOUNT_ID)])
        event = {"id": event_id, "event_type": "MessageCreate", "text": text,
                 "sender_id": sender_id, "dm_conversation_id": f"{low}-{high}",
                 "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
        self.dm_events.append(event)
        return event

    # -- routes -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
                "x-rate-limit-reset": str(int(time.time()) + 900)}

    def _me(self, req: SimRequest) -> SimResponse:
        return json_response({"data": ACCOUNT}, headers=self._headers())

    def _by_username(self, req: SimRequest) -> SimResponse:
        name = req.path_params[0].lower()
        for user in self.users.values():
            if user["username"].lower() == name:
                return json_response({"data": user}, headers=self._headers())
        return json_response({"errors": [{"detail": f"Could not find user: {name}",
                                          "title": "Not Found Error"}]}, headers=self._headers())

    def _page(self, items: list[dict[str, Any]], req: SimRequest, token_param: str,
              key: str = "author_id") -> SimResponse:
        since = int(req.arg("since_id") or 0)
        limit = int(req.arg("max_results") or 10)
        ordered = sorted((t for t in items if int(t["id"]) > since),
                         key=lambda t: int(t["id"]), reverse=True)
        token = req.arg(token_param)
        if token:
            below = _untoken(token)
            ordered = [t for t in ordered if int(t["id"]) < below]
        page, rest = ordered[:limit], ordered[limit:]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if rest and page:
            meta["next_token"] = _token(page[-1]["id"])
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = copy.deepcopy(page)
            ids = {t.get(key) for t in page}
            body["includes"] = {"users": [self.users[i] for i in ids if i in self.users]}
        return json_response(body, headers=self._headers())

    def _user_timeline(self, req: SimRequest) -> SimResponse:
        if req.path_params[1:] != ["mentions"] or req.path_params[0] != ACCOUNT_ID:
            return json_response({"title": "Not Found"}, 404)
        return self._page(self.mentions, req, "pagination_token")

    def _search(self, req: SimRequest) -> SimResponse:
        since = req.arg("since_id")
        if since and int(since) < self.search_window_start:
            return json_response({
                "errors": [{"parameters": {"since_id": [since]},
                            "message": f"Invalid 'since_id':'{since}'. 'since_id' must be a "
                                       "tweet id created after the start of the 7-day window."}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"}, 400)
        return self._page(self.search, req, "next_token")

    def _dm_events(self, req: SimRequest) -> SimResponse:
        response = self._page(self.dm_events, req, "pagination_token", key="sender_id")
        return response

    def _post_tweet(self, req: SimRequest) -> SimResponse:
        body = req.json()
        if any(p["text"] == body.get("text") for p in self.posted):
            return json_response({"detail": "You are not allowed to create a Tweet with "
                                  "duplicate content.", "type": "about:blank",
                                  "title": "Forbidden", "status": 403}, 403)
        tweet_id = str(next(self._ids))
        self.posted.append({"id": tweet_id, **body})
        return json_response({"data": {"id": tweet_id, "text": body["text"],
                                        "edit_history_tweet_ids": [tweet_id]}}, 201,
                             headers=self._headers())

    def _post_dm(self, req: SimRequest) -> SimResponse:
        event_id = str(next(self._ids))
        params = req.path_params
        conversation = params[0] if params[0] != "with" else f"{params[1]}-{ACCOUNT_ID}"
        self.posted.append({"id": event_id, "dm": True, **req.json()})
        return json_response({"data": {"dm_conversation_id": conversation,
                                        "dm_event_id": event_id}}, 201, headers=self._headers())
