"""The Facebook Page connector against a simulated Graph API on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.connectors_sim.meta import (
    APP_SECRET,
    PAGE_ID,
    VERIFY_TOKEN,
    VERSION,
    MetaSim,
    fixture,
    graph_time,
)
from tests.connectors_sim.server import SimServer

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.facebook import FacebookConnector, normalise_post
from ventanilla.ingest.schema import IncomingPost, PostKind

CUSTOMER = {"id": "6999000011112222", "name": "Rosa Marín"}
# One client for the module: building an httpx.Client (TLS context) costs ~0.2 s.
HTTP = httpx.Client(timeout=10.0)


@pytest.fixture
def sim() -> Iterator[MetaSim]:
    with SimServer() as server:
        yield MetaSim(server)


def connector(sim: MetaSim, **settings: object) -> FacebookConnector:
    return FacebookConnector(
        {"page_id": PAGE_ID, **settings},
        {"page_access_token": "page-token", "app_secret": APP_SECRET,
         "verify_token": VERIFY_TOKEN},
        base_url=sim.server.base_url, http=HTTP,
    )


def drain(conn: FacebookConnector, cursor: str | None) -> tuple[list[IncomingPost], str | None]:
    posts: list[IncomingPost] = []
    while True:
        result = conn.fetch(cursor)
        posts += result.posts
        cursor = result.cursor
        if not result.more:
            return posts, cursor


def visitor_post(sim: MetaSim, text: str, when: float | None = None) -> dict[str, Any]:
    post = {"id": f"{PAGE_ID}_{sim.new_id()}", "message": text, "created_time": graph_time(when),
            "from": CUSTOMER, "permalink_url": "https://www.facebook.com/x"}
    sim.visitor_posts.append(post)
    return post


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_recorded_visitor_post_normalises_with_counts() -> None:
    post = normalise_post(fixture("facebook", "visitor_posts.json")["data"][0])
    assert post.network == "facebook" and post.kind is PostKind.mention
    assert post.author.handle == "6234567890123456"
    assert post.author.display_name == "Carmen Ruiz"
    assert (post.likes, post.shares, post.replies) == (14, 2, 6)
    assert post.thread_external_id == post.external_id


def test_first_sync_reads_posts_comments_and_messages_not_our_own(sim: MetaSim) -> None:
    sim.load_facebook()
    conn = connector(sim)
    first = conn.fetch(None)
    assert [p.external_id for p in first.posts] == ["104838512345678_1122334455667702",
                                                    "104838512345678_1122334455667701"]
    assert len(first.skipped) == 1 and "message" in first.skipped[0].reason
    assert first.more
    comments = conn.fetch(first.cursor)
    by_id = {p.external_id: p for p in comments.posts}
    assert set(by_id) == {"998877665544332_7000", "998877665544332_7001"}
    assert by_id["998877665544332_7001"].kind is PostKind.reply
    assert by_id["998877665544332_7001"].parent_external_id == "998877665544332_7000"
    assert by_id["998877665544332_7000"].thread_external_id == "104838512345678_998877665544332"
    assert comments.more
    messages = conn.fetch(comments.cursor)
    assert [p.text for p in messages.posts] == [
        "El número de pedido es 48213, lo pagué con tarjeta."]
    assert messages.posts[0].kind is PostKind.direct_message
    assert messages.posts[0].thread_external_id == "t_10224567890123456"
    assert messages.more
    tagged = conn.fetch(messages.cursor)
    assert [(p.kind, p.author.display_name, p.shares) for p in tagged.posts] == [
        (PostKind.mention, "Raúl Medina", 7)]
    assert not tagged.more


def test_incremental_sync_returns_only_new_items(sim: MetaSim) -> None:
    sim.load_facebook()
    _, cursor = drain(connector(sim), None)
    again, cursor = drain(connector(sim), cursor)
    assert again == []
    new_post = visitor_post(sim, "¿Alguien puede decirme dónde está mi pedido?")
    new_comment = sim.add_comment("104838512345678_998877665544332",
                                  "Yo también espero el reembolso", sender=CUSTOMER)
    new_message = sim.add_message("messenger", "t_10224567890123456", "¿Hola?",
                                  {"id": "7001234567890123", "name": "Carmen Ruiz"})
    posts, _ = drain(connector(sim), cursor)
    assert sorted(p.external_id for p in posts) == sorted(
        [new_post["id"], new_comment["id"], new_message["id"]])


def test_a_restart_between_pages_misses_and_doubles_nothing(sim: MetaSim) -> None:
    visitor_post(sim, "primera queja", time.time() - 600)
    _, cursor = drain(connector(sim, streams=["visitor_posts"]), None)
    added = [visitor_post(sim, f"queja {n}", time.time() - 300 + n)["id"] for n in range(8)]
    conn = connector(sim, streams=["visitor_posts"], page_size=3)
    first = conn.fetch(cursor)
    assert len(first.posts) == 3 and first.more
    late = visitor_post(sim, "llega durante el barrido")["id"]
    sim.throttle(minutes=7)
    with pytest.raises(RateLimited):
        connector(sim, streams=["visitor_posts"], page_size=3).fetch(first.cursor)
    rest, cursor = drain(connector(sim, streams=["visitor_posts"], page_size=3), first.cursor)
    seen = [p.external_id for p in first.posts + rest]
    assert sorted(seen) == sorted(added) and len(seen) == len(set(seen))
    after, _ = drain(connector(sim, streams=["visitor_posts"]), cursor)
    assert [p.external_id for p in after] == [late]


def test_page_throttling_becomes_rate_limited_for_the_minutes_meta_gives(sim: MetaSim) -> None:
    sim.throttle(minutes=7)
    with pytest.raises(RateLimited) as limited:
        connector(sim).fetch(None)
    assert limited.value.retry_after == 420


def test_a_plain_429_with_retry_after_is_rate_limited(sim: MetaSim) -> None:
    sim.server.fail_with_rate_limit(reset_in=45)
    with pytest.raises(RateLimited) as limited:
        connector(sim).fetch(None)
    assert limited.value.retry_after == 45


def test_a_500_burst_is_retryable_then_succeeds(sim: MetaSim) -> None:
    sim.load_facebook()
    sim.transient_errors(times=2)
    conn = connector(sim)
    for _ in range(2):
        with pytest.raises(ConnectorError) as failed:
            conn.fetch(None)
        assert failed.value.retryable
    assert len(conn.fetch(None).posts) == 2


def test_an_expired_token_is_an_auth_error(sim: MetaSim) -> None:
    sim.server.expire_token()
    with pytest.raises(AuthError, match="190"):
        connector(sim).fetch(None)
    with pytest.raises(AuthError):
        connector(sim).test()


def test_test_returns_the_page_name(sim: MetaSim) -> None:
    assert connector(sim).test() == "Acme Ayuda"


def test_a_public_reply_is_one_comment_on_the_comment(sim: MetaSim) -> None:
    receipt = connector(sim).send(OutgoingReply(
        idempotency_key="r1", text="Hola Ana, lo sentimos. Te escribimos por privado.",
        in_reply_to_external_id="998877665544332_7000"))
    sent = sim.server.requests_to("POST", f"/{VERSION}/998877665544332_7000/comments")
    assert len(sent) == 1
    assert sent[0].json() == {"message": "Hola Ana, lo sentimos. Te escribimos por privado."}
    assert sent[0].headers["authorization"] == "Bearer page-token"
    assert receipt.external_id == sim.sent[0]["id"]


def test_a_private_reply_to_a_comment_and_a_messenger_answer(sim: MetaSim) -> None:
    conn = connector(sim)
    conn.send(OutgoingReply(idempotency_key="p1", text="¿Nos das tu número de pedido?",
                            in_reply_to_external_id="998877665544332_7000", private=True))
    conn.send(OutgoingReply(idempotency_key="p2", text="Gracias, lo revisamos.",
                            in_reply_to_external_id="m_AbCdEf0123456789-second", private=True,
                            recipient_handle="7001234567890123"))
    conn.send(OutgoingReply(idempotency_key="p3", text="Te escribimos por privado.",
                            in_reply_to_external_id="104838512345678_1122334455667702",
                            private=True))
    sent = [r.json() for r in sim.server.requests_to("POST", f"/{VERSION}/{PAGE_ID}/messages")]
    assert sent[2]["recipient"] == {"post_id": "104838512345678_1122334455667702"}
    assert sent[:2] == [
        {"recipient": {"comment_id": "998877665544332_7000"},
         "message": {"text": "¿Nos das tu número de pedido?"}},
        {"recipient": {"id": "7001234567890123"}, "messaging_type": "RESPONSE",
         "message": {"text": "Gracias, lo revisamos."}},
    ]


def test_webhook_challenge_and_signatures(sim: MetaSim) -> None:
    conn = connector(sim)
    ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    assert conn.verification_challenge(ok) == "1158201444"
    assert conn.verification_challenge({**ok, "hub.verify_token": "wrong"}) is None
    body = json.dumps(fixture("facebook", "webhook_feed.json")).encode()
    assert conn.verify_webhook({"X-Hub-Signature-256": sign(body)}, body)
    assert not conn.verify_webhook({"X-Hub-Signature-256": sign(body + b"x")}, body)
    assert not conn.verify_webhook({"X-Hub-Signature": "sha1=abc"}, body)
    result = conn.parse_webhook(body)
    assert [p.external_id for p in result.posts] == ["998877665544332_7010", "m_Zx9Yw8Vu7Ts6"]
    assert result.posts[0].kind is PostKind.comment
    assert result.posts[0].thread_external_id == "104838512345678_998877665544332"
    assert result.posts[1].kind is PostKind.direct_message
    assert len(result.skipped) == 1  # the change without a sender
    with pytest.raises(ConnectorError):
        conn.parse_webhook(b'{"object": "instagram", "entry": []}')


def test_a_conversation_that_jumps_to_the_top_mid_sweep_loses_no_message(sim: MetaSim) -> None:
    sim.load_facebook()
    only_messenger = {"streams": ["conversations"], "page_size": 2}
    _, cursor = drain(connector(sim, **only_messenger), None)
    people = [{"id": f"70000000000000{n}", "name": f"Cliente {n}"} for n in range(6)]
    first_messages = [
        sim.add_message("messenger", f"t_conv{n}", f"Mi pedido {n} no llega", people[n],
                        when=time.time() - 100 + n)["id"]
        for n in range(6)
    ]
    first = connector(sim, **only_messenger).fetch(cursor)
    assert first.more and len(first.posts) == 2
    # The oldest conversation (still on a later page) gets a new message and jumps on top.
    bumped = sim.add_message("messenger", "t_conv0", "¿Hola? ¿Alguien?", people[0])["id"]
    rest, cursor = drain(connector(sim, **only_messenger), first.cursor)
    later, _ = drain(connector(sim, **only_messenger), cursor)
    seen = [p.external_id for p in first.posts + rest + later]
    assert sorted(seen) == sorted([*first_messages, bumped])
    assert len(seen) == len(set(seen))
