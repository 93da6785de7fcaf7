"""A simulated YouTube Data API v3: comment threads (newest first), comments.insert, channels.

``nextPageToken`` is opaque and stable when threads arrive on top; errors use Google's
``{"error": {"code", "message", "errors": [{"reason", "domain"}]}}`` shape; an expired token
is a 401 ``authError``, a spent quota a 403 ``quotaExceeded``.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
from pathlib import Path
from typing import Any

from tests.connectors_sim.server import Fault, SimRequest, SimResponse, SimServer, json_response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors" / "youtube"
PREFIX = "/youtube/v3"
CHANNEL_ID = "UCacmeAyuda0000000000001"


def fixture(name: str) -> Any:
    """A recorded YouTube payload from ``tests/fixtures/connectors/youtube``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _error(code: int, reason: str, message: str, domain: str = "youtube.api") -> SimResponse:
    return json_response({"error": {"code": code, "message": message,
                                    "errors": [{"message": message, "domain": domain,
                                                "reason": reason}]}}, code)


class YouTubeSim:
    """State and routes of a simulated channel."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.threads: list[dict[str, Any]] = []
        self.inserted: list[dict[str, Any]] = []
        self._ids = itertools.count(1000)
        server.expired_token_response = lambda: _error(
            401, "authError", "Request had invalid authentication credentials. Expected OAuth "
            "2 access token, login cookie or other valid authentication credential.", "global")
        server.rate_limit_headers = lambda reset_in: {"retry-after": str(int(reset_in))}
        server.rate_limit_body = {"error": {"code": 429, "message": "Too many requests",
                                            "errors": [{"reason": "rateLimitExceeded",
                                                        "domain": "youtube.api"}]}}
        server.route("GET", f"{PREFIX}/commentThreads", self._threads)
        server.route("GET", f"{PREFIX}/channels", self._channels)
        server.route("POST", f"{PREFIX}/comments", self._insert)

    def load(self) -> None:
        """Add the recorded threads."""
        self.threads.extend(fixture("comment_threads.json")["items"])

    def spend_quota(self) -> None:
        """The next call answers 403 quotaExceeded."""
        self.server.inject(Fault(lambda: _error(
            403, "quotaExceeded", "The request cannot be completed because you have exceeded "
            "your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota")))

    def add_thread(self, text: str, when: float | None = None,
                   author: str = "UCnuria00000000000000001") -> dict[str, Any]:
        """A new top-level comment on a video of the channel."""
        comment_id = f"Ugw{next(self._ids)}NewThread4AaABAg"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        thread = {
            "kind": "youtube#commentThread", "etag": "new", "id": comment_id,
            "snippet": {
                "channelId": CHANNEL_ID, "videoId": "dQ7vW1x2Y3z", "canReply": True,
                "totalReplyCount": 0, "isPublic": True,
                "topLevelComment": {"kind": "youtube#comment", "etag": "n", "id": comment_id,
                                    "snippet": {
                    "channelId": CHANNEL_ID, "videoId": "dQ7vW1x2Y3z", "textDisplay": text,
                    "textOriginal": text, "authorDisplayName": "@nuria",
                    "authorChannelId": {"value": author}, "canRate": True,
                    "viewerRating": "none", "likeCount": 0, "publishedAt": stamp,
                    "updatedAt": stamp}}}}
        self.threads.append(thread)
        return thread

    @staticmethod
    def _published(thread: dict[str, Any]) -> str:
        try:
            return str(thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"])
        except KeyError:
            return "0000"

    def _threads(self, req: SimRequest) -> SimResponse:
        if req.arg("allThreadsRelatedToChannelId") != CHANNEL_ID:
            return _error(400, "missingRequiredParameter", "No filter selected.")
        ordered = sorted(self.threads, key=lambda t: (self._published(t), t["id"]),
                         reverse=True)
        token = req.arg("pageToken")
        if token:
            mark = tuple(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))))
            ordered = [t for t in ordered if (self._published(t), t["id"]) < mark]
        size = int(req.arg("maxResults") or 20)
        page, rest = ordered[:size], ordered[size:]
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse", "etag": f"e{len(self.threads)}",
            "pageInfo": {"totalResults": len(page), "resultsPerPage": size},
            "items": copy.deepcopy(page)}
        if rest and page:
            last = page[-1]
            raw = json.dumps([self._published(last), last["id"]]).encode()
            body["nextPageToken"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return json_response(body)

    def _channels(self, req: SimRequest) -> SimResponse:
        return json_response({"kind": "youtube#channelListResponse", "etag": "c",
                              "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                              "items": [{"kind": "youtube#channel", "etag": "c1",
                                         "id": CHANNEL_ID,
                                         "snippet": {"title": "Acme Ayuda",
                                                     "customUrl": "@acmeayuda"}}]})

    def _insert(self, req: SimRequest) -> SimResponse:
        body = req.json()
        answer = fixture("comment_insert_response.json")
        answer["id"] = f"{body['snippet']['parentId']}.{next(self._ids)}"
        answer["snippet"]["textOriginal"] = body["snippet"]["textOriginal"]
        answer["snippet"]["parentId"] = body["snippet"]["parentId"]
        self.inserted.append(answer)
        return json_response(answer)
