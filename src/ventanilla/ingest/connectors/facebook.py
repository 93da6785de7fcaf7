"""Facebook Pages (Graph API): visitor posts, comments and Messenger in; replies out.

Streams, read in turn, one Graph call per ``fetch``:

* ``visitor_posts``: ``/{page-id}/visitor_posts`` (posts people write on the Page), kind
  mention, paged by ``paging.cursors.after``.
* ``comments``: ``/{page-id}/feed`` with each recent Page post's comments embedded
  (``filter(stream)`` gives replies too, flat, with ``parent``), kind comment or reply.
  Comments past the first embedded page of a post are followed on ``/{post-id}/comments``.
* ``conversations``: ``/{page-id}/conversations?platform=messenger``, kind direct_message.
* ``tagged``: ``/{page-id}/tagged`` (public posts elsewhere that tag the Page), kind mention.

Webhooks (``feed`` and ``messages`` fields) carry the same items in real time; polling is
the safety net. See :mod:`ventanilla.ingest.connectors.graph` for the cursor marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ventanilla.ingest.connectors import graph
from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    FetchResult,
    OutgoingReply,
    SentReceipt,
    Skipped,
)
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

NETWORK = "facebook"
STREAMS = ("visitor_posts", "comments", "conversations", "tagged")
COMMENT_FIELDS = "id,message,created_time,from,parent{id},like_count,comment_count,permalink_url"
POST_FIELDS = (
    "id,message,created_time,from,permalink_url,shares,"
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)


class FacebookConnector:
    """A Facebook Page (``Connector`` and ``WebhookReceiver``).

    settings: ``page_id``, ``streams`` (visitor_posts, comments, conversations, tagged),
    ``recent_posts`` (Page posts whose comments are polled, default 25), ``page_size``,
    ``graph_version``, ``brand``. credentials: ``page_access_token``; ``app_secret`` and
    ``verify_token`` for webhooks.
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
        self.page_id = str(self.settings["page_id"])
        self.brand: str | None = self.settings.get("brand")
        self.client = graph.GraphClient(
            NETWORK, self.credentials.get("page_access_token", ""), base_url=base_url,
            version=self.settings.get("graph_version", graph.DEFAULT_VERSION), http=http,
        )
        wanted = self.settings.get("streams") or list(STREAMS)
        self.streams = [s for s in STREAMS if s in wanted]
        self.page_size = int(self.settings.get("page_size", 50))
        self.recent_posts = int(self.settings.get("recent_posts", 25))

    def test(self) -> str:
        """Check the Page token; return the Page's name."""
        if not self.client.token:
            raise AuthError("facebook: no page_access_token in the channel's credentials")
        data = self.client.get("me", {"fields": "id,name"})
        return str(data.get("name") or data.get("id"))

    def fetch(self, cursor: str | None) -> FetchResult:
        """Read one Graph page of the stream whose turn it is."""
        return graph.fetch_in_turn(NETWORK, cursor, self.streams, self._read)

    def _read(self, name: str, stream: dict[str, Any]) -> tuple[list[IncomingPost], list[Skipped], bool]:
        if name in ("visitor_posts", "tagged"):
            return graph.fetch_post_list(
                self.client, f"{self.page_id}/{name}",
                {"fields": POST_FIELDS, "limit": self.page_size}, stream,
                lambda item: normalise_post(item, self.brand), network=NETWORK,
            )
        if name == "comments":
            return self._comments(stream)
        return graph.fetch_conversations(
            self.client, self.page_id, {self.page_id}, "messenger", stream,
            page_size=self.page_size, network=NETWORK, brand=self.brand,
        )

    def _comments(self, stream: dict[str, Any]) -> tuple[list[IncomingPost], list[Skipped], bool]:
        fields = (
            "id,created_time,"
            f"comments.filter(stream).order(reverse_chronological).limit(50){{{COMMENT_FIELDS}}}"
        )
        data = self.client.get(
            f"{self.page_id}/feed", {"fields": fields, "limit": self.recent_posts}
        )
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        for page_post in data.get("data") or []:
            post_id = str(page_post.get("id"))
            block = page_post.get("comments") or {}
            while True:
                reached_old = self._take_comments(block, post_id, stream, posts, skipped)
                after = graph.page_after(block)
                if reached_old or not after or stream.get("mark") is None:
                    break
                block = self.client.get(f"{post_id}/comments", {
                    "fields": COMMENT_FIELDS, "filter": "stream",
                    "order": "reverse_chronological", "limit": 50, "after": after,
                })
        graph.finish(stream)
        return posts, skipped, True

    def _take_comments(
        self, block: Mapping[str, Any], post_id: str, stream: dict[str, Any],
        posts: list[IncomingPost], skipped: list[Skipped],
    ) -> bool:
        reached_old = False
        for item in block.get("data") or []:
            try:
                comment = normalise_comment(item, post_id, self.brand)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(item, f"facebook comment: {exc!r}"))
                continue
            if not graph.is_new(stream, comment.created_at, comment.external_id):
                reached_old = True
                continue
            graph.note(stream, comment.created_at, comment.external_id)
            if (item.get("from") or {}).get("id") == self.page_id:
                continue  # the Page's own answers
            posts.append(comment)
        return reached_old

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Reply: a public comment, a private reply to a comment, or a Messenger message.

        Graph takes no idempotency key on these edges; exactly-once comes from the outbox,
        which records "sending" before this call and the receipt after.
        """
        if not reply.private:
            if not reply.in_reply_to_external_id:
                raise ConnectorError(
                    "facebook: a public reply needs a post or comment", retryable=False
                )
            data = self.client.post(
                f"{reply.in_reply_to_external_id}/comments", {"message": reply.text}
            )
            return SentReceipt(external_id=_required(data, "id"))
        target = reply.in_reply_to_external_id
        if target and not target.startswith("m_"):
            # Private reply: one message per comment or visitor post, within 7 days. Posts on
            # the Page have ids "{page-id}_{n}"; comment ids start with their post's number.
            key = "post_id" if target.startswith(f"{self.page_id}_") else "comment_id"
            recipient: dict[str, str] = {key: target}
            body: dict[str, Any] = {"recipient": recipient, "message": {"text": reply.text}}
        else:
            psid = reply.recipient_handle or reply.thread_external_id
            if not psid:
                raise ConnectorError(
                    "facebook: a message needs the recipient's PSID", retryable=False
                )
            body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE",
                    "message": {"text": reply.text}}
        data = self.client.post(f"{self.page_id}/messages", body)
        return SentReceipt(external_id=_required(data, "message_id"))

    # -- webhooks -----------------------------------------------------------------------------

    def verification_challenge(self, params: Mapping[str, str]) -> str | None:
        """The ``hub.challenge`` to echo on the subscription GET (None: refuse with 403)."""
        return graph.verification_challenge(params, self.credentials.get("verify_token", ""))

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Check ``X-Hub-Signature-256`` with the app secret."""
        return graph.verify_signature(
            self.credentials.get("app_secret", ""), body, graph.signature_header(headers)
        )

    def parse_webhook(self, body: bytes) -> FetchResult:
        """Normalise a Page delivery (``feed`` changes and ``messaging`` events)."""
        return parse_page_webhook(body, self.page_id, self.brand)


def _required(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not value:
        raise ConnectorError(f"facebook: answer without {key!r}", retryable=False)
    return str(value)


def _summary(block: Any) -> int:
    if not isinstance(block, dict):
        return 0
    return int((block.get("summary") or {}).get("total_count") or 0)


def _author(sender: Mapping[str, Any]) -> IncomingAuthor:
    return IncomingAuthor(handle=str(sender["id"]), display_name=sender.get("name"))


def normalise_post(item: Mapping[str, Any], brand: str | None = None) -> IncomingPost:
    """A Page visitor post (or tagged post) as an ``IncomingPost`` (kind mention)."""
    text = item.get("message")
    if not isinstance(text, str):
        raise ValueError("post has no message text")
    if "from" not in item:
        raise KeyError("from (the token lacks pages_read_user_content?)")
    post_id = str(item["id"])
    return IncomingPost(
        network=NETWORK,
        external_id=post_id,
        author=_author(item["from"]),
        text=text,
        kind=PostKind.mention,
        created_at=graph.parse_time(item.get("created_time")),
        url=item.get("permalink_url"),
        thread_external_id=post_id,
        likes=_summary(item.get("reactions")),
        shares=int((item.get("shares") or {}).get("count") or 0),
        replies=_summary(item.get("comments")),
        brand=brand,
        raw=dict(item),
    )


def normalise_comment(
    item: Mapping[str, Any], post_id: str, brand: str | None = None
) -> IncomingPost:
    """A comment on a Page post; a reply to a comment keeps the comment as its parent."""
    text = item.get("message")
    if not isinstance(text, str):
        raise ValueError("comment has no message text")
    if "from" not in item:
        raise KeyError("from (the token lacks pages_read_user_content?)")
    parent = (item.get("parent") or {}).get("id")
    return IncomingPost(
        network=NETWORK,
        external_id=str(item["id"]),
        author=_author(item["from"]),
        text=text,
        kind=PostKind.reply if parent else PostKind.comment,
        created_at=graph.parse_time(item.get("created_time")),
        url=item.get("permalink_url"),
        parent_external_id=str(parent or post_id),
        thread_external_id=post_id,
        likes=int(item.get("like_count") or 0),
        replies=int(item.get("comment_count") or 0),
        brand=brand,
        raw=dict(item),
    )


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """A recorded comment ``{"post_id": ..., "comment": {...}}`` (bench)."""
    return normalise_comment(item["comment"], item["post_id"])


def parse_page_webhook(body: bytes, page_id: str, brand: str | None = None) -> FetchResult:
    """Normalise a Page webhook: ``feed`` comment/post adds and ``messaging`` messages."""
    payload = graph.load_webhook(NETWORK, body, "page")
    posts: list[IncomingPost] = []
    skipped: list[Skipped] = []
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            try:
                post = _feed_change(change, page_id, brand)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(change, f"facebook webhook change: {exc!r}"))
                continue
            if post is not None:
                posts.append(post)
        for event in entry.get("messaging") or []:
            try:
                message = graph.messaging_event(event, NETWORK, {page_id}, brand)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(event, f"facebook webhook message: {exc!r}"))
                continue
            if message is not None:
                posts.append(message)
    return FetchResult(posts=posts, cursor=None, more=False, skipped=skipped)


def _feed_change(
    change: Mapping[str, Any], page_id: str, brand: str | None
) -> IncomingPost | None:
    if change.get("field") != "feed":
        return None
    value = change["value"]
    if value.get("verb") != "add" or value.get("item") not in ("comment", "post", "status"):
        return None  # edits, hides, reactions: nothing new to answer
    sender = value["from"]
    if str(sender.get("id")) == page_id:
        return None
    post_id = str(value["post_id"])
    if value["item"] == "comment":
        parent = value.get("parent_id")
        return IncomingPost(
            network=NETWORK,
            external_id=str(value["comment_id"]),
            author=_author(sender),
            text=value["message"],
            kind=PostKind.reply if parent and parent != post_id else PostKind.comment,
            created_at=graph.parse_time(value["created_time"]),
            parent_external_id=str(parent or post_id),
            thread_external_id=post_id,
            brand=brand,
            raw=dict(value),
        )
    return IncomingPost(
        network=NETWORK,
        external_id=post_id,
        author=_author(sender),
        text=value["message"],
        kind=PostKind.mention,
        created_at=graph.parse_time(value["created_time"]),
        thread_external_id=post_id,
        brand=brand,
        raw=dict(value),
    )
