"""A simulated Meta Graph API (a Facebook Page and its linked Instagram account).

Lists are newest first with ``paging.cursors.before/after`` and ``paging.next`` only when
another page exists; cursors are opaque and stable when new items arrive on top (they encode
the last item, not an offset). Errors are Graph error objects: an expired token is code 190
(subcode 463) on HTTP 400, Page throttling is code 80001 with ``X-Business-Use-Case-Usage``.
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

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors"
VERSION = "v23.0"
PAGE_ID = "104838512345678"
PAGE_NAME = "Acme Ayuda"
IG_USER_ID = "17841400000000001"
IG_USERNAME = "acme.ayuda"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"


def fixture(network: str, name: str) -> Any:
    """A recorded Graph payload from ``tests/fixtures/connectors/{network}``."""
    return json.loads((FIXTURES / network / name).read_text(encoding="utf-8"))


def graph_time(seconds: float | None = None) -> str:
    """A Graph timestamp (``2026-11-23T10:15:00+0000``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(seconds))


def _cursor(item: dict[str, Any], key: str) -> str:
    raw = json.dumps([item[key], item["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(token: str) -> tuple[str, str]:
    padded = token + "=" * (-len(token) % 4)
    when, item_id = json.loads(base64.urlsafe_b64decode(padded))
    return str(when), str(item_id)


class MetaSim:
    """State and routes of the simulated Graph API."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.visitor_posts: list[dict[str, Any]] = []
        self.tagged: list[dict[str, Any]] = []
        self.ig_tags: list[dict[str, Any]] = []
        self.page_posts: list[dict[str, Any]] = []  # each with "comments": [...] (flat)
        self.conversations: dict[str, list[dict[str, Any]]] = {"messenger": [], "instagram": []}
        self.media: list[dict[str, Any]] = []  # each with "comments": [... "replies": [...]]
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(9_000_000_000)
        server.expired_token_response = lambda: json_response({"error": {
            "message": "Error validating access token: Session has expired on Monday, "
                       "23-Nov-26 01:00:00 PST. The current time is Monday, 23-Nov-26 "
                       "02:10:05 PST.",
            "type": "OAuthException", "code": 190, "error_subcode": 463,
            "fbtrace_id": "AbCdEfGh123"}}, 400)
        server.route("GET", f"/{VERSION}/*", self._get)
        server.route("POST", f"/{VERSION}/*", self._post)

    # -- faults -----------------------------------------------------------------------------

    def throttle(self, minutes: int = 7) -> None:
        """Answer the next call with Page throttling (code 80001 and the BUC header)."""
        usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 32,
                            "total_time": 41, "estimated_time_to_regain_access": minutes}]}

        def response() -> SimResponse:
            return json_response({"error": {
                "message": "(#80001) There have been too many calls to this Page account. "
                           "Wait a bit and try again.",
                "type": "OAuthException", "code": 80001, "fbtrace_id": "Zz9"}}, 400,
                {"x-business-use-case-usage": json.dumps(usage)})

        self.server.inject(Fault(response, 1))

    def transient_errors(self, times: int = 3) -> None:
        """Graph's "unexpected error, please retry" (code 2, HTTP 500) ``times`` times."""
        body = {"error": {"message": "An unexpected error has occurred. Please retry your "
                          "request later.", "type": "OAuthException", "is_transient": True,
                          "code": 2, "fbtrace_id": "Tr4ns"}}
        self.server.inject(Fault(lambda: json_response(body, 500), times))

    # -- filling ----------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh numeric Graph id."""
        return str(next(self._ids))

    def add_comment(self, post_id: str, message: str, *, sender: dict[str, str] | None = None,
                    parent: str | None = None, when: float | None = None) -> dict[str, Any]:
        """A new comment on a Page post (``post_id`` must be in ``page_posts``)."""
        post = next(p for p in self.page_posts if p["id"] == post_id)
        comment: dict[str, Any] = {
            "id": f"{post_id.split('_')[1]}_{self.new_id()}", "message": message,
            "created_time": graph_time(when),
            "from": sender or {"id": "6123456789012345", "name": "Lucía Ortega"},
            "like_count": 0, "comment_count": 0,
            "permalink_url": f"https://www.facebook.com/{post_id}?comment_id=1",
        }
        if parent:
            comment["parent"] = {"id": parent}
        post["comments"].append(comment)
        return comment

    def add_ig_comment(self, media_id: str, text: str, username: str = "marta.viaja",
                       when: float | None = None) -> dict[str, Any]:
        """A new top-level comment on an Instagram media."""
        media = next(m for m in self.media if m["id"] == media_id)
        comment = {"id": self.new_id(), "text": text, "timestamp": graph_time(when),
                   "username": username, "from": {"id": self.new_id(), "username": username},
                   "like_count": 0, "replies": []}
        media["comments"].append(comment)
        return comment

    def load_facebook(self) -> None:
        """Fill the Page from the recorded visitor posts, feed comments and Messenger."""
        self.visitor_posts.extend(fixture("facebook", "visitor_posts.json")["data"])
        self.tagged.extend(fixture("facebook", "tagged.json")["data"])
        for post in fixture("facebook", "feed_with_comments.json")["data"]:
            post["comments"] = post["comments"]["data"]
            self.page_posts.append(post)
        for conversation in fixture("facebook", "conversations.json")["data"]:
            conversation["messages"] = conversation["messages"]["data"]
            self.conversations["messenger"].append(conversation)

    def load_instagram(self) -> None:
        """Fill the Instagram account from the recorded media comments and Direct."""
        for media in fixture("instagram", "media_with_comments.json")["data"]:
            comments = media["comments"]["data"]
            for comment in comments:
                comment["replies"] = comment["replies"]["data"]
            media["comments"] = comments
            self.media.append(media)
        self.ig_tags.extend(fixture("instagram", "tags.json")["data"])
        for conversation in fixture("instagram", "conversations.json")["data"]:
            conversation["messages"] = conversation["messages"]["data"]
            self.conversations["instagram"].append(conversation)

    def add_message(self, platform: str, conversation_id: str, text: str,
                    sender: dict[str, str], when: float | None = None) -> dict[str, Any]:
        """A new message in a conversation (created when missing), bumping it to the top."""
        stamp = graph_time(when)
        found = [c for c in self.conversations[platform] if c["id"] == conversation_id]
        conversation: dict[str, Any] = (
            found[0] if found else {"id": conversation_id, "messages": []}
        )
        if not found:
            self.conversations[platform].append(conversation)
        message = {"id": "m_" + self.new_id(), "message": text, "created_time": stamp,
                   "from": sender}
        conversation["messages"].append(message)
        conversation["updated_time"] = stamp
        return message

    # -- routes -----------------------------------------------------------------------------

    def _get(self, req: SimRequest) -> SimResponse:
        params = req.path_params
        if params == ["me"]:
            return json_response({"id": PAGE_ID, "name": PAGE_NAME})
        if params == [IG_USER_ID]:
            return json_response({"id": IG_USER_ID, "username": IG_USERNAME,
                                  "name": PAGE_NAME})
        if len(params) != 2:
            return self._not_found(req)
        node, edge = params
        if node == PAGE_ID and edge == "visitor_posts":
            return self._list(self.visitor_posts, req, "created_time")
        if node == PAGE_ID and edge == "tagged":
            return self._list(self.tagged, req, "created_time")
        if node == IG_USER_ID and edge == "tags":
            return self._list(self.ig_tags, req, "timestamp")
        if node == PAGE_ID and edge == "feed":
            return self._feed(req)
        if node == PAGE_ID and edge == "conversations":
            platform = req.arg("platform") or "messenger"
            return self._conversations(self.conversations[platform], req)
        if node == IG_USER_ID and edge == "media":
            return self._media(req)
        if edge == "comments":
            for post in self.page_posts:
                if post["id"] == node:
                    return self._list(post["comments"], req, "created_time")
            for media in self.media:
                if media["id"] == node:
                    body = self._page(media["comments"], req, "timestamp")
                    for comment in body["data"]:
                        comment["replies"] = {"data": comment.get("replies", [])}
                    return json_response(body)
        return self._not_found(req)

    def _not_found(self, req: SimRequest) -> SimResponse:
        return json_response({"error": {
            "message": f"Unsupported get request. Object with ID '{req.path}' does not exist",
            "type": "GraphMethodException", "code": 100, "error_subcode": 33,
            "fbtrace_id": "Nf0"}}, 400)

    def _page(self, items: list[dict[str, Any]], req: SimRequest, key: str,
              limit: int | None = None) -> dict[str, Any]:
        ordered = sorted(items, key=lambda i: (i[key], i["id"]), reverse=True)
        after = req.arg("after")
        if after:
            mark = _after(after)
            ordered = [i for i in ordered if (i[key], i["id"]) < mark]
        size = limit or int(req.arg("limit") or 25)
        page, rest = ordered[:size], ordered[size:]
        body: dict[str, Any] = {"data": copy.deepcopy(page)}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0], key),
                                          "after": _cursor(page[-1], key)}}
            if rest:
                body["paging"]["next"] = (f"https://graph.facebook.com/{VERSION}{req.path}"
                                          f"?after={_cursor(page[-1], key)}")
        return body

    def _list(self, items: list[dict[str, Any]], req: SimRequest, key: str) -> SimResponse:
        return json_response(self._page(items, req, key))

    def _feed(self, req: SimRequest) -> SimResponse:
        body = self._page(self.page_posts, req, "created_time")
        for post in body["data"]:
            comments = post.pop("comments")
            fake = SimRequest("GET", "", {}, {}, b"")
            post["comments"] = self._page(comments, fake, "created_time", limit=50)
        return json_response(body)

    def _media(self, req: SimRequest) -> SimResponse:
        body = self._page(self.media, req, "timestamp")
        for media in body["data"]:
            comments = media.pop("comments")
            fake = SimRequest("GET", "", {}, {}, b"")
            block = self._page(comments, fake, "timestamp", limit=50)
            for comment in block["data"]:
                comment["replies"] = {"data": comment.get("replies", [])}
            media["comments"] = block
        return json_response(body)

    def _conversations(self, items: list[dict[str, Any]], req: SimRequest) -> SimResponse:
        body = self._page(items, req, "updated_time")
        for conversation in body["data"]:
            messages = sorted(conversation["messages"], key=lambda m: m["created_time"],
                              reverse=True)[:25]
            conversation["messages"] = {"data": messages}
        return json_response(body)

    def _post(self, req: SimRequest) -> SimResponse:
        node, edge = [*req.path_params, ""][:2]
        body = req.json()
        if edge in ("comments", "replies"):
            new_id = f"{node.split('_')[-1]}_{self.new_id()}"
            self.sent.append({"id": new_id, "edge": edge, "node": node, **body})
            return json_response({"id": new_id})
        if edge == "messages" and node in (PAGE_ID, IG_USER_ID):
            mid = "m_" + self.new_id()
            self.sent.append({"id": mid, "edge": edge, "node": node, **body})
            recipient = body["recipient"].get("id") or "7001234567890123"
            return json_response({"recipient_id": recipient, "message_id": mid})
        return self._not_found(req)
