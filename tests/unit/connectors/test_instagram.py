"""The Instagram connector against a simulated Graph API on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.connectors_sim.meta import (
    APP_SECRET,
    IG_USER_ID,
    IG_USERNAME,
    PAGE_ID,
    VERIFY_TOKEN,
    VERSION,
    MetaSim,
    fixture,
)
from tests.connectors_sim.server import SimServer

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.instagram import InstagramConnector
from ventanilla.ingest.schema import IncomingPost, PostKind

MEDIA = "17990000000000001"
# One client for the module: building an httpx.Client (TLS context) costs ~0.2 s.
HTTP = httpx.Client(timeout=10.0)


@pytest.fixture
def sim() -> Iterator[MetaSim]:
    with SimServer() as server:
        yield MetaSim(server)


def connector(sim: MetaSim, **settings: object) -> InstagramConnector:
    return InstagramConnector(
        {"ig_user_id": IG_USER_ID, "page_id": PAGE_ID, "username": IG_USERNAME, **settings},
        {"page_access_token": "page-token", "app_secret": APP_SECRET,
         "verify_token": VERIFY_TOKEN},
        base_url=sim.server.base_url, http=HTTP,
    )


def drain(conn: InstagramConnector, cursor: str | None) -> tuple[list[IncomingPost], str | None]:
    posts: list[IncomingPost] = []
    while True:
        result = conn.fetch(cursor)
        posts += result.posts
        cursor = result.cursor
        if not result.more:
            return posts, cursor


def test_first_sync_reads_comments_replies_and_direct_but_not_our_own(sim: MetaSim) -> None:
    sim.load_instagram()
    conn = connector(sim)
    comments = conn.fetch(None)
    by_id = {p.external_id: p for p in comments.posts}
    assert set(by_id) == {"17850000000000002", "17850000000000003", "17850000000000004"}
    reply = by_id["17850000000000004"]
    assert reply.kind is PostKind.reply and reply.parent_external_id == "17850000000000003"
    assert reply.thread_external_id == MEDIA and reply.author.handle == "pablo_fdz"
    assert by_id["17850000000000003"].likes == 7
    assert by_id["17850000000000003"].url == "https://www.instagram.com/p/DAbCdEfGhIj/"
    direct = conn.fetch(comments.cursor)
    assert [p.author.handle for p in direct.posts] == ["marta.viaja"]
    assert direct.posts[0].kind is PostKind.direct_message and direct.more
    tags = conn.fetch(direct.cursor)
    assert [(p.author.handle, p.likes, p.replies) for p in tags.posts] == [
        ("lola.deco", 233, 41), ("foto.sin.texto", 3, 0)]
    assert tags.posts[0].kind is PostKind.mention and tags.posts[1].text == ""
    assert not tags.more


def test_incremental_sync_and_a_malformed_comment(sim: MetaSim) -> None:
    sim.load_instagram()
    _, cursor = drain(connector(sim), None)
    new = sim.add_ig_comment(MEDIA, "¿Hacéis envíos a Canarias? Mi pedido lleva 10 días")
    broken = sim.add_ig_comment(MEDIA, "sin texto")
    del broken["text"]
    posts, cursor = drain(connector(sim), cursor)
    assert [p.external_id for p in posts] == [new["id"]]
    # The malformed one was reported on the comments page; read it again to see why.
    again = connector(sim).fetch(None)
    assert any("text" in s.reason for s in again.skipped)
    nothing, _ = drain(connector(sim), cursor)
    assert nothing == []


def test_comments_past_the_first_embedded_page_are_followed(sim: MetaSim) -> None:
    sim.load_instagram()
    _, cursor = drain(connector(sim, streams=["comments"]), None)
    added = [sim.add_ig_comment(MEDIA, f"queja {n}", when=time.time() - 200 + n)["id"]
             for n in range(60)]
    posts, _ = drain(connector(sim, streams=["comments"]), cursor)
    ids = [p.external_id for p in posts]
    assert sorted(ids) == sorted(added) and len(ids) == len(set(ids))
    assert sim.server.requests_to("GET", f"/{VERSION}/{MEDIA}/comments")


def test_errors_map_to_connector_errors(sim: MetaSim) -> None:
    sim.throttle(minutes=2)
    with pytest.raises(RateLimited) as limited:
        connector(sim).fetch(None)
    assert limited.value.retry_after == 120
    sim.transient_errors(times=1)
    with pytest.raises(ConnectorError) as failed:
        connector(sim).fetch(None)
    assert failed.value.retryable
    assert connector(sim).fetch(None).posts == []
    sim.server.expire_token()
    with pytest.raises(AuthError):
        connector(sim).fetch(None)


def test_test_returns_the_username(sim: MetaSim) -> None:
    assert connector(sim).test() == "@acme.ayuda"


def test_a_public_reply_and_a_private_reply(sim: MetaSim) -> None:
    conn = connector(sim)
    receipt = conn.send(OutgoingReply(idempotency_key="a", text="¡Hola Marta! Lo miramos ya.",
                                      in_reply_to_external_id="17850000000000003"))
    sent = sim.server.requests_to("POST", f"/{VERSION}/17850000000000003/replies")
    assert len(sent) == 1 and sent[0].json() == {"message": "¡Hola Marta! Lo miramos ya."}
    assert receipt.external_id == sim.sent[0]["id"]
    conn.send(OutgoingReply(idempotency_key="b", text="¿Nos pasas tu número de pedido?",
                            in_reply_to_external_id="17850000000000003", private=True))
    conn.send(OutgoingReply(idempotency_key="c", text="Recibido, gracias.",
                            in_reply_to_external_id="aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE",
                            private=True, recipient_handle="6811223344556677"))
    messages = [r.json() for r in sim.server.requests_to("POST", f"/{VERSION}/{PAGE_ID}/messages")]
    assert [m["recipient"] for m in messages] == [{"comment_id": "17850000000000003"},
                                                  {"id": "6811223344556677"}]


def test_webhook_signature_and_parsing(sim: MetaSim) -> None:
    conn = connector(sim)
    body = json.dumps(fixture("instagram", "webhook_comments.json")).encode()
    good = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert conn.verify_webhook({"x-hub-signature-256": good}, body)
    assert not conn.verify_webhook({"x-hub-signature-256": good}, body.replace(b"Sigo", b"Ya"))
    result = conn.parse_webhook(body)
    assert [p.external_id for p in result.posts] == [
        "17850000000000010", "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx"]
    assert result.posts[0].thread_external_id == MEDIA
    assert len(result.skipped) == 2  # the comment without a sender, the mention
    assert conn.verification_challenge({"hub.mode": "subscribe", "hub.challenge": "42",
                                        "hub.verify_token": VERIFY_TOKEN}) == "42"
