"""Instagram professional accounts (Instagram Graph API through the linked Facebook Page).

Streams, one Graph call per ``fetch``:

* ``comments``: ``/{ig-user-id}/media`` with each recent media's comments and their
  ``replies`` embedded; kind comment or reply, thread = the media id.
* ``conversations``: ``/{page-id}/conversations?platform=instagram`` (Instagram Direct).
* ``tags``: ``/{ig-user-id}/tags`` (media in which people tagged the account), kind mention.

Webhooks (``object: instagram``; ``comments``, ``mentions`` and ``messages`` fields) are the
real-time path. See :mod:`ventanilla.ingest.connectors.graph` for the cursor marks.
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

NETWORK = "instagram"
STREAMS = ("comments", "conversations", "tags")
MEDIA_FIELDS = "id,caption,timestamp,username,permalink,like_count,comments_count,media_type"
COMMENT_FIELDS = "id,text,timestamp,username,from,like_count,parent_id"


class InstagramConnector:
    """An Instagram professional account (``Connector`` and ``WebhookReceiver``).

    settings: ``ig_user_id``, ``page_id`` (the linked Facebook Page, for Direct messages),
    ``username`` (ours, to leave our own replies out), ``streams`` (comments,
    conversations, tags), ``recent_media``
    (default 25), ``page_size``, ``graph_version``, ``brand``. credentials:
    ``page_access_token``; ``app_secret`` and ``verify_token`` for webhooks.
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
        self.ig_user_id = str(self.settings["ig_user_id"])
        self.page_id = str(self.settings.get("page_id") or "")
        self.username = str(self.settings.get("username") or "")
        self.brand: str | None = self.settings.get("brand")
        self.client = graph.GraphClient(
            NETWORK, self.credentials.get("page_access_token", ""), base_url=base_url,
            version=self.settings.get("graph_version", graph.DEFAULT_VERSION), http=http,
        )
        wanted = self.settings.get("streams") or list(STREAMS)
        if not self.page_id:
            wanted = [s for s in wanted if s != "conversations"]
        self.streams = [s for s in STREAMS if s in wanted]
        self.page_size = int(self.settings.get("page_size", 50))
        self.recent_media = int(self.settings.get("recent_media", 25))

    def _own_ids(self) -> set[str]:
        return {i for i in (self.ig_user_id, self.page_id, self.username) if i}

    def test(self) -> str:
        """Check the token; return ``@username`` of the Instagram account."""
        if not self.client.token:
            raise AuthError("instagram: no page_access_token in the channel's credentials")
        data = self.client.get(self.ig_user_id, {"fields": "id,username,name"})
        return "@" + str(data.get("username") or data.get("id"))

    def fetch(self, cursor: str | None) -> FetchResult:
        """Read one Graph page of the stream whose turn it is."""
        return graph.fetch_in_turn(NETWORK, cursor, self.streams, self._read)

    def _read(self, name: str, stream: dict[str, Any]) -> tuple[list[IncomingPost], list[Skipped], bool]:
        if name == "comments":
            return self._comments(stream)
        if name == "tags":
            return graph.fetch_post_list(
                self.client, f"{self.ig_user_id}/tags",
                {"fields": MEDIA_FIELDS, "limit": self.page_size}, stream,
                lambda item: normalise_tagged_media(item, self.brand), network=NETWORK,
            )
        return graph.fetch_conversations(
            self.client, self.page_id, self._own_ids(), "instagram", stream,
            page_size=self.page_size, network=NETWORK, brand=self.brand,
        )

    def _comments(self, stream: dict[str, Any]) -> tuple[list[IncomingPost], list[Skipped], bool]:
        fields = (
            "id,timestamp,permalink,"
            f"comments.limit(50){{{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}}}"
        )
        data = self.client.get(
            f"{self.ig_user_id}/media", {"fields": fields, "limit": self.recent_media}
        )
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        own = self._own_ids()
        for media in data.get("data") or []:
            media_id = str(media.get("id"))
            permalink = media.get("permalink")
            block = media.get("comments") or {}
            while True:
                for item in block.get("data") or []:
                    for one in [item, *_replies(item)]:
                        self._take(one, media_id, permalink, stream, own, posts, skipped)
                after = graph.page_after(block)
                if not after or stream.get("mark") is None:
                    break
                # Instagram does not promise comment order: read every page of the media.
                block = self.client.get(f"{media_id}/comments", {
                    "fields": f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}",
                    "limit": 50, "after": after,
                })
        graph.finish(stream)
        return posts, skipped, True

    def _take(
        self, item: Mapping[str, Any], media_id: str, permalink: str | None,
        stream: dict[str, Any], own: set[str], posts: list[IncomingPost],
        skipped: list[Skipped],
    ) -> None:
        try:
            comment = normalise_comment(item, media_id, permalink, self.brand)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(item, f"instagram comment: {exc!r}"))
            return
        if not graph.is_new(stream, comment.created_at, comment.external_id):
            return
        graph.note(stream, comment.created_at, comment.external_id)
        sender_id = str((item.get("from") or {}).get("id") or "")
        if comment.author.handle in own or sender_id in own:
            return
        posts.append(comment)

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """A public reply to a comment, a private reply to a comment, or a Direct message.

        No idempotency key exists on these edges; the outbox records "sending" before the
        call and the receipt after, so a retry happens only when no receipt was stored.
        """
        if not reply.private:
            if not reply.in_reply_to_external_id:
                raise ConnectorError("instagram: a public reply needs a comment", retryable=False)
            data = self.client.post(
                f"{reply.in_reply_to_external_id}/replies", {"message": reply.text}
            )
            return SentReceipt(external_id=_required(data, "id"))
        sender = self.page_id or self.ig_user_id
        target = reply.in_reply_to_external_id
        if target and not target.startswith(("m_", "aWdf")):
            recipient: dict[str, str] = {"comment_id": target}
        else:
            igsid = reply.recipient_handle or reply.thread_external_id
            if not igsid:
                raise ConnectorError(
                    "instagram: a message needs the recipient's IGSID", retryable=False
                )
            recipient = {"id": igsid}
        data = self.client.post(
            f"{sender}/messages", {"recipient": recipient, "message": {"text": reply.text}}
        )
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
        """Normalise an ``object: instagram`` delivery (comments, messages)."""
        return parse_instagram_webhook(body, self._own_ids(), self.brand)


def _replies(item: Any) -> list[Any]:
    block = item.get("replies") if isinstance(item, dict) else None
    data = block.get("data") if isinstance(block, dict) else None
    return data if isinstance(data, list) else []


def _required(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not value:
        raise ConnectorError(f"instagram: answer without {key!r}", retryable=False)
    return str(value)


def normalise_comment(
    item: Mapping[str, Any], media_id: str, permalink: str | None = None,
    brand: str | None = None,
) -> IncomingPost:
    """An Instagram comment (or reply to one) on our media as an ``IncomingPost``."""
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError("comment has no text")
    sender = item.get("from") or {}
    handle = item.get("username") or sender.get("username")
    if not handle:
        raise KeyError("username")
    parent = item.get("parent_id")
    return IncomingPost(
        network=NETWORK,
        external_id=str(item["id"]),
        author=IncomingAuthor(handle=str(handle)),
        text=text,
        kind=PostKind.reply if parent else PostKind.comment,
        created_at=graph.parse_time(item.get("timestamp")),
        url=permalink,
        parent_external_id=str(parent or media_id),
        thread_external_id=media_id,
        likes=int(item.get("like_count") or 0),
        brand=brand,
        raw=dict(item),
    )


def normalise_tagged_media(item: Mapping[str, Any], brand: str | None = None) -> IncomingPost:
    """A media in which someone tagged the account (kind mention; the caption is the text).

    A tag without caption is kept with empty text: the picture may be the complaint.
    """
    caption = item.get("caption") or ""
    if not isinstance(caption, str):
        raise ValueError("caption is not text")
    media_id = str(item["id"])
    return IncomingPost(
        network=NETWORK,
        external_id=media_id,
        author=IncomingAuthor(handle=str(item["username"])),
        text=caption,
        kind=PostKind.mention,
        created_at=graph.parse_time(item.get("timestamp")),
        url=item.get("permalink"),
        thread_external_id=media_id,
        likes=int(item.get("like_count") or 0),
        replies=int(item.get("comments_count") or 0),
        brand=brand,
        raw=dict(item),
    )


def normalise(item: Mapping[str, Any]) -> IncomingPost:
    """A recorded comment ``{"media_id": ..., "comment": {...}}`` (bench)."""
    return normalise_comment(item["comment"], item["media_id"])


def parse_instagram_webhook(
    body: bytes, own_ids: set[str], brand: str | None = None
) -> FetchResult:
    """Normalise ``comments`` changes and ``messaging`` events; others are skipped with why."""
    payload = graph.load_webhook(NETWORK, body, "instagram")
    posts: list[IncomingPost] = []
    skipped: list[Skipped] = []
    for entry in payload.get("entry") or []:
        when = entry.get("time")
        for change in entry.get("changes") or []:
            field = change.get("field")
            if field not in ("comments", "live_comments"):
                if field == "mentions":
                    skipped.append(Skipped(change, "instagram mention: read it by polling"))
                continue
            try:
                value = change["value"]
                sender = value["from"]
                if str(sender.get("id")) in own_ids or sender.get("username") in own_ids:
                    continue
                media_id = str(value["media"]["id"])
                parent = value.get("parent_id")
                posts.append(IncomingPost(
                    network=NETWORK,
                    external_id=str(value["id"]),
                    author=IncomingAuthor(handle=str(sender["username"])),
                    text=value["text"],
                    kind=PostKind.reply if parent else PostKind.comment,
                    created_at=graph.parse_time(value.get("timestamp", when)),
                    parent_external_id=str(parent or media_id),
                    thread_external_id=media_id,
                    brand=brand,
                    raw=dict(value),
                ))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(change, f"instagram webhook comment: {exc!r}"))
        for event in entry.get("messaging") or []:
            try:
                message = graph.messaging_event(event, NETWORK, own_ids, brand)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(event, f"instagram webhook message: {exc!r}"))
                continue
            if message is not None:
                posts.append(message)
    return FetchResult(posts=posts, cursor=None, more=False, skipped=skipped)
