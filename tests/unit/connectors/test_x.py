"""The X (API v2) connector against a simulated X on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator

import httpx
import pytest
from tests.connectors_sim.server import SimServer
from tests.connectors_sim.x import ACCOUNT_ID, XSim, fixture

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    FetchResult,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.x import (
    XConnector,
    crc_response_token,
    normalise_tweet,
    oauth1_header,
)
from ventanilla.ingest.schema import PostKind

SECRET = "consumer-secret-for-tests"
# One client for the module: building an httpx.Client (TLS context) costs ~0.2 s.
HTTP = httpx.Client(timeout=10.0)


@pytest.fixture
def sim() -> Iterator[XSim]:
    with SimServer() as server:
        yield XSim(server)


def connector(sim: XSim, **settings: object) -> XConnector:
    return XConnector(
        {"user_id": ACCOUNT_ID, "streams": ["mentions"], "page_size": 5, **settings},
        {"access_token": "user-token", "consumer_secret": SECRET},
        base_url=sim.server.base_url, http=HTTP,
    )


def drain(conn: XConnector, cursor: str | None) -> tuple[list[str], str | None]:
    """Call fetch until ``more`` is False, as the channel scheduler does."""
    ids: list[str] = []
    while True:
        result = conn.fetch(cursor)
        ids += [p.external_id for p in result.posts]
        cursor = result.cursor
        if not result.more:
            return ids, cursor


def test_a_recorded_mention_page_normalises_author_thread_and_counts() -> None:
    page = fixture("mentions_response.json")
    users = {u["id"]: u for u in page["includes"]["users"]}
    reply, complaint = (normalise_tweet(t, users) for t in page["data"])
    assert complaint.network == "x"
    assert complaint.kind is PostKind.mention
    assert complaint.author.handle == "markellison"
    assert complaint.author.followers == 152340 and complaint.author.verified
    assert (complaint.likes, complaint.shares, complaint.replies) == (1203, 105, 41)
    assert complaint.url == "https://x.com/markellison/status/1859912000000000002"
    assert reply.kind is PostKind.reply
    assert reply.parent_external_id == "1859912600000000001"
    assert reply.thread_external_id == "1859912000000000001"
    assert reply.language == "es" and "😤" in reply.text


def test_first_sync_takes_the_newest_page_then_incremental_only_new(sim: XSim) -> None:
    sim.load_mentions()
    newer = [sim.add_mention(f"@AcmeAyuda sin respuesta {n}")["id"] for n in range(3)]
    conn = connector(sim)
    first = conn.fetch(None)
    assert [p.external_id for p in first.posts] == [
        *reversed(newer), "1859912000000000005", "1859912000000000004"]
    assert first.more is False  # a desk starts listening now: no backfill of older pages
    nothing, cursor = drain(conn, first.cursor)
    assert nothing == []
    new = sim.add_mention("@AcmeAyuda ¿hay alguien ahí? Pedido 48213")
    ids, _ = drain(conn, cursor)
    assert ids == [new["id"]]
    since = sim.server.requests_to("GET", f"/2/users/{ACCOUNT_ID}/mentions")[-1].arg("since_id")
    assert since == newer[-1]


def test_a_restart_between_pages_resumes_with_nothing_missed_or_doubled(sim: XSim) -> None:
    sim.load_mentions()
    _, cursor = drain(connector(sim), None)
    added = [sim.add_mention(f"@AcmeAyuda queja número {n}")["id"] for n in range(12)]
    seen: list[str] = []
    result = connector(sim).fetch(cursor)
    seen += [p.external_id for p in result.posts]
    assert result.more
    # New mentions arrive mid-sweep; the process restarts from the returned cursor.
    late = sim.add_mention("@AcmeAyuda y ahora otra cosa")["id"]
    sim.server.fail_with_status(500, times=1)
    with pytest.raises(ConnectorError) as failed:
        connector(sim).fetch(result.cursor)
    assert failed.value.retryable
    ids, cursor = drain(connector(sim), result.cursor)
    seen += ids
    assert sorted(seen) == sorted(added)
    assert len(seen) == len(set(seen))
    ids, _ = drain(connector(sim), cursor)
    assert ids == [late]


def test_a_429_becomes_rate_limited_with_the_reset_from_x_rate_limit_reset(sim: XSim) -> None:
    sim.server.fail_with_rate_limit(reset_in=120)
    with pytest.raises(RateLimited) as limited:
        connector(sim).fetch(None)
    assert 110 <= (limited.value.retry_after or 0) <= 121


def test_a_500_burst_is_retryable_then_succeeds(sim: XSim) -> None:
    sim.load_mentions()
    sim.server.fail_with_status(500, times=2)
    conn = connector(sim)
    for _ in range(2):
        with pytest.raises(ConnectorError) as failed:
            conn.fetch(None)
        assert failed.value.retryable and not isinstance(failed.value, AuthError)
    assert len(conn.fetch(None).posts) == 5


def test_an_expired_token_is_an_auth_error(sim: XSim) -> None:
    sim.server.expire_token()
    with pytest.raises(AuthError):
        connector(sim).fetch(None)
    with pytest.raises(AuthError):
        connector(sim).test()


def test_a_malformed_tweet_is_skipped_with_a_reason_and_the_rest_kept(sim: XSim) -> None:
    sim.load_mentions()
    sim.mentions.append(fixture("malformed_tweet.json"))
    result = connector(sim, page_size=10).fetch(None)
    assert len(result.posts) == 5
    assert len(result.skipped) == 1
    assert "text" in result.skipped[0].reason


def test_mentions_search_and_dms_are_read_in_turn(sim: XSim) -> None:
    sim.load_mentions()
    sim.search.append(sim.add_mention("Acme otra vez sin stock, vaya tela"))
    sim.add_dm("Hola, mi pedido es el 48213")
    sim.dm_events.append({"id": "1", "event_type": "MessageCreate", "text": "ours",
                          "sender_id": ACCOUNT_ID, "created_at": "2026-11-23T08:00:00.000Z"})
    conn = connector(sim, streams=["mentions", "search", "dms"], search_query="acme",
                     page_size=10)
    kinds: list[PostKind] = []
    cursor = None
    results: list[FetchResult] = []
    while True:
        result = conn.fetch(cursor)
        results.append(result)
        kinds += [p.kind for p in result.posts]
        cursor = result.cursor
        if not result.more:
            break
    assert len(results) == 3
    assert kinds.count(PostKind.direct_message) == 1
    assert len(kinds) == 6 + 1 + 1


def test_a_reply_is_posted_once_with_its_text(sim: XSim) -> None:
    receipt = connector(sim).send(OutgoingReply(
        idempotency_key="reply-1", text="Hola Lucía, lo sentimos. ¿Nos escribes por DM?",
        in_reply_to_external_id="1859912000000000001"))
    posts = sim.server.requests_to("POST", "/2/tweets")
    assert len(posts) == 1
    assert posts[0].json() == {"text": "Hola Lucía, lo sentimos. ¿Nos escribes por DM?",
                               "reply": {"in_reply_to_tweet_id": "1859912000000000001"}}
    assert receipt.external_id == sim.posted[0]["id"]


def test_a_duplicate_reply_is_refused_without_parking_the_channel(sim: XSim) -> None:
    reply = OutgoingReply(idempotency_key="k", text="Gracias", in_reply_to_external_id="1")
    connector(sim).send(reply)
    with pytest.raises(ConnectorError) as refused:
        connector(sim).send(reply)
    assert not refused.value.retryable and not isinstance(refused.value, AuthError)


def test_a_dm_goes_to_the_conversation(sim: XSim) -> None:
    receipt = connector(sim).send(OutgoingReply(
        idempotency_key="dm-1", text="¿Nos das tu número de pedido?",
        in_reply_to_external_id=None, private=True, recipient_handle="lucia_ortega"))
    sent = sim.server.requests_to("POST", "/2/dm_conversations/with/2244994945/messages")
    assert len(sent) == 1 and sent[0].json() == {"text": "¿Nos das tu número de pedido?"}
    assert receipt.external_id


def test_test_returns_the_handle(sim: XSim) -> None:
    assert connector(sim).test() == "@AcmeAyuda"


def test_crc_and_webhook_signatures(sim: XSim) -> None:
    conn = connector(sim)
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"abc", hashlib.sha256).digest())
    assert conn.crc_response("abc") == {"response_token": "sha256=" + expected.decode()}
    assert crc_response_token(SECRET, "abc") == "sha256=" + expected.decode()
    body = json.dumps(fixture("account_activity.json")).encode()
    good = crc_response_token(SECRET, body.decode())
    assert conn.verify_webhook({"X-Twitter-Webhooks-Signature": good}, body)
    assert not conn.verify_webhook({"x-twitter-webhooks-signature": good}, body + b" ")
    assert not conn.verify_webhook({}, body)
    result = conn.parse_webhook(body)
    assert [p.external_id for p in result.posts] == ["1859913000000000001",
                                                      "1859913500000000001"]
    assert result.posts[1].kind is PostKind.direct_message
    assert result.posts[1].author.handle == "markellison"
    assert len(result.skipped) == 1 and result.cursor is None


def test_oauth1_signature_matches_the_documented_example() -> None:
    # X's "Creating a signature" example; the status parameter travels in the query here,
    # which gives the same signature base string as in the form body.
    header = oauth1_header(
        "POST", "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
        "&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21",
        "xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", timestamp=1318622958)
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header


def test_oauth1_credentials_sign_every_request(sim: XSim) -> None:
    conn = XConnector({"user_id": ACCOUNT_ID}, {
        "consumer_key": "ck", "consumer_secret": SECRET, "access_token": "at",
        "access_token_secret": "ats"}, base_url=sim.server.base_url)
    assert conn.test() == "@AcmeAyuda"
    auth = sim.server.requests_to("GET", "/2/users/me")[0].headers["authorization"]
    assert auth.startswith("OAuth ") and 'oauth_consumer_key="ck"' in auth



def test_a_search_since_id_older_than_the_window_restarts_the_sweep(sim: XSim) -> None:
    old = sim.add_mention("Acme, ¿y mi pedido?")
    sim.search.append(old)
    conn = connector(sim, streams=["search"], search_query="acme")
    _, cursor = drain(conn, None)
    sim.search_window_start = int(old["id"]) + 1
    new = sim.add_mention("Acme sigue sin contestar")
    sim.search.append(new)
    ids, _ = drain(conn, cursor)
    assert ids == [new["id"]]


def test_fetching_twice_from_one_cursor_gives_the_same_page(sim: XSim) -> None:
    sim.load_mentions()
    _, cursor = drain(connector(sim), None)
    for n in range(8):
        sim.add_mention(f"@AcmeAyuda queja {n}")
    once = connector(sim).fetch(cursor)
    twice = connector(sim).fetch(cursor)
    assert [p.external_id for p in once.posts] == [p.external_id for p in twice.posts]
    assert once.cursor == twice.cursor
