"""The Reddit connector against a simulated Reddit on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.connectors_sim.drain import drain_ids
from tests.connectors_sim.reddit import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    RedditSim,
    fixture,
)
from tests.connectors_sim.server import SimServer

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.reddit import RedditConnector, normalise
from ventanilla.ingest.schema import PostKind


@pytest.fixture
def sim() -> Iterator[RedditSim]:
    with SimServer() as server:
        yield RedditSim(server)


def connector(sim: RedditSim, password: str = PASSWORD, **settings: object) -> RedditConnector:
    return RedditConnector(
        {"searches": [{"subreddit": "spain", "query": "retraso"}], "page_size": 4, **settings},
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": USERNAME,
         "password": password},
        base_url=sim.server.base_url,
    )


def drain(sim: RedditSim, cursor: str | None) -> tuple[list[str], str | None]:
    return drain_ids(lambda: connector(sim), cursor)


def test_recorded_inbox_items_and_submissions_normalise_with_their_threads() -> None:
    reply = normalise(fixture("inbox_comment_reply.json"))
    assert reply.kind is PostKind.reply
    assert reply.external_id == "t1_lx9k2ab"
    assert reply.parent_external_id == "t1_lx9jzzz"
    assert reply.thread_external_id == "t3_1gv3x7q"
    assert reply.text.startswith("Pues a mí me cancelaron el vuelo & nadie")
    assert reply.author.handle == "pablo_viaja"
    assert reply.likes == 4

    message = normalise(fixture("inbox_private_message.json"))
    assert message.kind is PostKind.direct_message
    assert message.text.startswith("Reserva ABC123\n\nHola")
    assert message.thread_external_id == "t4_2h0x1pq"

    post = normalise(fixture("search_submission.json"))
    assert post.kind is PostKind.mention
    assert post.text.startswith("Retraso enorme con Aerolínea X en Barajas\n\nLlevamos")
    assert (post.likes, post.shares, post.replies) == (212, 2, 87)
    assert post.url and post.url.startswith("https://www.reddit.com/r/spain/comments/")


def test_first_sync_then_incremental_sync_returns_only_new_items(sim: RedditSim) -> None:
    inbox = {sim.add_inbox_reply()["data"]["name"], sim.add_message()["data"]["name"]}
    found = sim.add_submission("spain", "Retraso de 5 horas")["data"]["name"]
    first = connector(sim).fetch(None)
    assert {p.external_id for p in first.posts} == inbox
    assert first.more is True  # the search's turn comes next, at once
    seen, cursor = drain(sim, first.cursor)
    assert seen == [found]

    new = sim.add_inbox_reply("otra")["data"]["name"]
    again, cursor = drain(sim, cursor)
    assert again == [new]
    assert drain(sim, cursor)[0] == []


def test_a_restart_in_the_middle_of_pages_misses_and_doubles_nothing(sim: RedditSim) -> None:
    sim.add_inbox_reply("vieja")
    _, cursor = drain(sim, None)  # the search was empty at first sync
    backlog = [sim.add_inbox_reply(f"pendiente {i}")["data"]["name"] for i in range(11)]
    backlog += [sim.add_submission("spain", f"Retraso {i}")["data"]["name"] for i in range(3)]
    seen, _ = drain(sim, cursor)  # a new connector per page: a restart between every page
    assert sorted(seen) == sorted(backlog)


def test_a_refused_search_is_skipped_for_the_round_and_never_stalls_the_inbox(
    sim: RedditSim,
) -> None:
    sim.add_inbox_reply("hola")
    sim.server.fail_with_status(403, times=2, path_prefix="/r/")  # also after a new token
    first = connector(sim).fetch(None)
    second = connector(sim).fetch(first.cursor)
    assert len(first.posts) == 1 and second.posts == []
    assert "refused" in second.skipped[0].reason and second.more is False


def test_a_deleted_anchor_does_not_stall_the_sync(sim: RedditSim) -> None:
    sim.add_inbox_reply("se borrará")
    _, cursor = drain(sim, None)
    sim.inbox.clear()  # the anchor item is gone from the listing
    new = sim.add_inbox_reply("nueva")["data"]["name"]
    assert drain(sim, cursor)[0] == [new]


def test_a_429_becomes_rate_limited_with_the_seconds_from_x_ratelimit_reset(
    sim: RedditSim,
) -> None:
    reddit = connector(sim)
    reddit.test()
    sim.server.fail_with_rate_limit(reset_in=240)
    with pytest.raises(RateLimited) as caught:
        reddit.fetch(None)
    assert caught.value.retry_after == 240


def test_a_500_burst_is_retryable_and_the_next_poll_succeeds(sim: RedditSim) -> None:
    sim.add_inbox_reply()
    reddit = connector(sim)
    sim.server.fail_with_status(503, times=3, path_prefix="/message")
    for _ in range(3):
        with pytest.raises(ConnectorError) as caught:
            reddit.fetch(None)
        assert caught.value.retryable is True
    assert len(reddit.fetch(None).posts) == 1


def test_a_wrong_password_is_an_auth_error(sim: RedditSim) -> None:
    with pytest.raises(AuthError):
        connector(sim, password="nope").fetch(None)


def test_an_expired_token_is_renewed_once_then_counts_as_auth_error(sim: RedditSim) -> None:
    reddit = connector(sim)
    reddit.test()
    sim.tokens.clear()  # Reddit forgot the token: a new one is fetched silently
    assert reddit.fetch(None).posts == []
    sim.server.expire_token(path_prefix="/message")
    with pytest.raises(AuthError):
        reddit.fetch(None)


def test_a_malformed_item_is_skipped_with_a_reason_and_the_rest_kept(sim: RedditSim) -> None:
    sim.add_inbox_reply("buena 1")
    sim.add_raw_inbox({"kind": "t1", "data": {"name": "t1_broken", "body": "sin fecha"}})
    sim.add_inbox_reply("buena 2")
    result = connector(sim, searches=[]).fetch(None)
    assert sorted(p.text for p in result.posts) == ["buena 1", "buena 2"]
    assert len(result.skipped) == 1 and "malformed" in result.skipped[0].reason


def test_a_reply_is_commented_once_under_its_parent(sim: RedditSim) -> None:
    reply = OutgoingReply("r-1", "Lo sentimos, revisamos tu caso.", "t1_lx9k2ab")
    first = connector(sim).send(reply)
    second = connector(sim).send(reply)
    assert first.external_id == second.external_id
    assert len(sim.comments) == 1
    assert sim.comments[0]["data"]["parent_id"] == "t1_lx9k2ab"
    assert sim.comments[0]["data"]["body"] == "Lo sentimos, revisamos tu caso."
    posted = sim.server.requests_to("POST", "/api/comment")
    assert len(posted) == 1 and posted[0].arg("api_type") == "json"


def test_a_private_reply_to_a_public_comment_is_a_new_private_message(sim: RedditSim) -> None:
    reply = OutgoingReply("r-2", "¿Nos pasas tu reserva?", "t1_lx9k2ab", private=True,
                          recipient_handle="u/pablo_viaja")
    receipt = connector(sim).send(reply)
    connector(sim).send(reply)
    assert len(sim.sent) == 1 and sim.sent[0]["data"]["dest"] == "pablo_viaja"
    assert receipt.external_id == sim.sent[0]["data"]["name"]


def test_test_returns_the_account_name(sim: RedditSim) -> None:
    assert connector(sim).test() == USERNAME


def test_our_own_submissions_found_by_search_are_not_incoming(sim: RedditSim) -> None:
    ours = sim.add_submission("spain", "Retraso: comunicado oficial")
    ours["data"]["author"] = USERNAME
    theirs = sim.add_submission("spain", "Retraso otra vez")["data"]["name"]
    assert drain(sim, None)[0] == [theirs]
