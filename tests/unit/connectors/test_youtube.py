"""The YouTube connector against a simulated Data API v3 on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from tests.connectors_sim.server import SimServer
from tests.connectors_sim.youtube import CHANNEL_ID, PREFIX, YouTubeSim, fixture

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.youtube import (
    YouTubeConnector,
    normalise_thread,
    seconds_until_quota_reset,
)
from ventanilla.ingest.schema import IncomingPost, PostKind

# One client for the module: building an httpx.Client (TLS context) costs ~0.2 s.
HTTP = httpx.Client(timeout=10.0)


@pytest.fixture
def sim() -> Iterator[YouTubeSim]:
    with SimServer() as server:
        yield YouTubeSim(server)


def connector(sim: YouTubeSim, **settings: object) -> YouTubeConnector:
    return YouTubeConnector({"channel_id": CHANNEL_ID, **settings},
                            {"access_token": "ya29.token"},
                            base_url=sim.server.base_url + PREFIX, http=HTTP)


def drain(conn: YouTubeConnector, cursor: str | None) -> tuple[list[IncomingPost], str | None]:
    posts: list[IncomingPost] = []
    while True:
        result = conn.fetch(cursor)
        posts += result.posts
        cursor = result.cursor
        if not result.more:
            return posts, cursor


def test_a_recorded_thread_normalises_top_comment_and_replies() -> None:
    top, ours, reply = normalise_thread(fixture("comment_threads.json")["items"][0])
    assert top.network == "youtube" and top.kind is PostKind.comment
    assert top.author.handle == "UCelena000000000000000001"
    assert top.author.display_name == "@ElenaGarciaVlog"
    assert (top.likes, top.replies) == (23, 2)
    assert top.parent_external_id == "dQ7vW1x2Y3z"
    assert top.url == "https://www.youtube.com/watch?v=dQ7vW1x2Y3z&lc=UgzX8kQ2cT5-Lm9pQ4x4AaABAg"
    assert reply.kind is PostKind.reply
    assert reply.parent_external_id == reply.thread_external_id == top.external_id
    assert ours.text.endswith("Ajustes > Cuenta.")


def test_first_sync_skips_our_own_replies_and_a_malformed_thread(sim: YouTubeSim) -> None:
    sim.load()
    result = connector(sim).fetch(None)
    assert [p.external_id for p in result.posts] == [
        "UgzX8kQ2cT5-Lm9pQ4x4AaABAg", "UgzX8kQ2cT5-Lm9pQ4x4AaABAg.9zYx2",
        "UgyQ2wE4rT6yU8iO0pA4AaABAg"]
    assert len(result.skipped) == 1 and "topLevelComment" in result.skipped[0].reason
    assert not result.more


def test_incremental_sync_and_restart_between_pages(sim: YouTubeSim) -> None:
    sim.load()
    _, cursor = drain(connector(sim), None)
    assert drain(connector(sim), cursor)[0] == []
    added = [sim.add_thread(f"Sigo sin poder cancelar ({n})", time.time() - 100 + n)["id"]
             for n in range(7)]
    first = connector(sim, page_size=3).fetch(cursor)
    assert len(first.posts) == 3 and first.more
    late = sim.add_thread("Y ahora me han cobrado otra vez")["id"]
    sim.server.fail_with_status(503, times=2)
    for _ in range(2):
        with pytest.raises(ConnectorError) as failed:
            connector(sim, page_size=3).fetch(first.cursor)
        assert failed.value.retryable
    rest, cursor = drain(connector(sim, page_size=3), first.cursor)
    seen = [p.external_id for p in first.posts + rest]
    assert sorted(seen) == sorted(added) and len(seen) == len(set(seen))
    assert [p.external_id for p in drain(connector(sim), cursor)[0]] == [late]


def test_a_429_and_a_spent_quota_are_rate_limited(sim: YouTubeSim) -> None:
    sim.server.fail_with_rate_limit(reset_in=30)
    with pytest.raises(RateLimited) as limited:
        connector(sim).fetch(None)
    assert limited.value.retry_after == 30
    sim.spend_quota()
    with pytest.raises(RateLimited) as spent:
        connector(sim).fetch(None)
    assert (spent.value.retry_after or 0) >= 60


def test_quota_resets_at_midnight_pacific() -> None:
    # 07:00 UTC in November is 23:00 in Los Angeles (PST): one hour to go.
    assert seconds_until_quota_reset(datetime(2026, 11, 23, 7, 0, tzinfo=UTC)) == 3600


def test_an_expired_token_is_an_auth_error(sim: YouTubeSim) -> None:
    sim.server.expire_token()
    with pytest.raises(AuthError):
        connector(sim).fetch(None)


def test_test_returns_the_channel_title(sim: YouTubeSim) -> None:
    assert connector(sim).test() == "Acme Ayuda"
    assert sim.server.requests_to("GET", f"{PREFIX}/channels")[0].arg("mine") == "true"


def test_an_api_key_is_enough_to_read_but_not_to_reply(sim: YouTubeSim) -> None:
    sim.load()
    conn = YouTubeConnector({"channel_id": CHANNEL_ID}, {"api_key": "AIza-test"},
                            base_url=sim.server.base_url + PREFIX)
    assert len(conn.fetch(None).posts) == 3
    assert sim.server.requests_to("GET", f"{PREFIX}/commentThreads")[0].arg("key") == "AIza-test"
    with pytest.raises(AuthError):
        conn.send(OutgoingReply(idempotency_key="k", text="hola", in_reply_to_external_id="x"))


def test_a_reply_is_inserted_once_under_the_thread(sim: YouTubeSim) -> None:
    receipt = connector(sim).send(OutgoingReply(
        idempotency_key="r", text="Hola Tomás, ¿qué versión de Android tienes?",
        in_reply_to_external_id="UgzX8kQ2cT5-Lm9pQ4x4AaABAg.9zYx2",
        thread_external_id="UgzX8kQ2cT5-Lm9pQ4x4AaABAg"))
    sent = sim.server.requests_to("POST", f"{PREFIX}/comments")
    assert len(sent) == 1 and sent[0].arg("part") == "snippet"
    assert sent[0].json() == {"snippet": {"parentId": "UgzX8kQ2cT5-Lm9pQ4x4AaABAg",
                                          "textOriginal": "Hola Tomás, ¿qué versión de "
                                                          "Android tienes?"}}
    assert receipt.external_id == sim.inserted[0]["id"]
    with pytest.raises(ConnectorError):
        connector(sim).send(OutgoingReply(idempotency_key="p", text="x",
                                          in_reply_to_external_id="y", private=True))
