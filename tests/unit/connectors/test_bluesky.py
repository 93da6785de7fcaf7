"""The Bluesky connector against a simulated PDS on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.connectors_sim.bluesky import BRAND_DID, HANDLE, PASSWORD, BlueskySim, fixture
from tests.connectors_sim.drain import drain_ids
from tests.connectors_sim.server import SimServer

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.bluesky import BlueskyConnector, normalise, record_key
from ventanilla.ingest.schema import PostKind


@pytest.fixture
def sim() -> Iterator[BlueskySim]:
    with SimServer() as server:
        yield BlueskySim(server)


def connector(sim: BlueskySim, password: str = PASSWORD, **settings: object) -> BlueskyConnector:
    return BlueskyConnector(
        {"queries": ["barajas"], "page_size": 4, **settings},
        {"identifier": HANDLE, "app_password": password},
        base_url=sim.server.base_url,
    )


def drain(sim: BlueskySim, cursor: str | None) -> tuple[list[str], str | None]:
    return drain_ids(lambda: connector(sim), cursor)


def test_a_recorded_reply_notification_keeps_parent_root_and_author() -> None:
    post = normalise(fixture("notification_reply.json"))
    assert post.network == "bluesky"
    assert post.kind is PostKind.reply
    assert post.text == "Sigo sin reembolso 😤 y ya van 3 semanas"
    assert (post.parent_external_id or "").endswith("/3lbqsz2kzh22a")
    assert (post.thread_external_id or "").endswith("/3lbqsy6xiqs2i")
    assert post.author.handle == "marta.bsky.social"
    assert post.author.display_name == "Marta Gil"
    assert post.language == "es"
    assert post.url == "https://bsky.app/profile/marta.bsky.social/post/3lbqta5lnck2i"


def test_a_searched_post_view_carries_engagement_and_verification() -> None:
    post = normalise(fixture("post_view_search.json"))
    assert post.kind is PostKind.mention
    assert post.thread_external_id == post.external_id
    assert (post.likes, post.shares, post.replies) == (380, 129, 14)
    assert post.author.verified is True


def test_first_sync_then_incremental_sync_returns_only_new_items(sim: BlueskySim) -> None:
    notes = {sim.add_notification(f"queja {i}")["uri"] for i in range(2)}
    found = sim.add_post("caos en Barajas")["uri"]
    first = connector(sim).fetch(None)
    assert {p.external_id for p in first.posts} == notes
    assert first.more is True  # the search's turn comes next, at once
    seen, cursor = drain(sim, first.cursor)
    assert seen == [found]

    new = sim.add_notification("otra más")["uri"]
    again, cursor = drain(sim, cursor)
    assert again == [new]
    assert drain(sim, cursor)[0] == []


def test_a_source_empty_at_first_sync_later_gives_everything_new(sim: BlueskySim) -> None:
    _, cursor = drain(sim, None)
    later = [sim.add_post(f"Barajas {i}")["uri"] for i in range(9)]
    assert sorted(drain(sim, cursor)[0]) == sorted(later)


def test_a_restart_in_the_middle_of_a_walk_misses_and_doubles_nothing(sim: BlueskySim) -> None:
    sim.add_notification("vieja")
    sim.add_post("Barajas, vieja")
    _, cursor = drain(sim, None)
    backlog = [sim.add_notification(f"pendiente {i}")["uri"] for i in range(10)]
    backlog += [sim.add_post(f"Barajas {i}")["uri"] for i in range(6)]

    page = connector(sim).fetch(cursor)
    assert page.more is True
    seen = [p.external_id for p in page.posts]
    late = sim.add_notification("llega durante la caminata")["uri"]
    rest, cursor = drain(sim, page.cursor)  # each page with a brand-new connector
    seen += rest + drain(sim, cursor)[0]
    assert sorted(seen) == sorted([*backlog, late])


def test_a_429_becomes_rate_limited_with_the_reset_from_ratelimit_reset(
    sim: BlueskySim,
) -> None:
    bsky = connector(sim)
    bsky.test()
    sim.server.fail_with_rate_limit(reset_in=90)
    with pytest.raises(RateLimited) as caught:
        bsky.fetch(None)
    assert 85 <= caught.value.retry_after <= 91


def test_a_500_burst_is_retryable_and_the_next_poll_succeeds(sim: BlueskySim) -> None:
    sim.add_notification("hola")
    bsky = connector(sim)
    bsky.test()
    sim.server.fail_with_status(500, times=2)
    for _ in range(2):
        with pytest.raises(ConnectorError) as caught:
            bsky.fetch(None)
        assert caught.value.retryable is True
    assert len(bsky.fetch(None).posts) == 1


def test_a_wrong_app_password_is_an_auth_error(sim: BlueskySim) -> None:
    with pytest.raises(AuthError):
        connector(sim, password="wrong").fetch(None)


def test_an_expired_session_logs_in_again_then_fails_as_auth_error(sim: BlueskySim) -> None:
    bsky = connector(sim)
    bsky.test()
    sim.tokens.clear()  # the PDS forgot every access token: one fresh login recovers
    assert bsky.fetch(None).posts == []
    sim.server.expire_token()
    with pytest.raises(AuthError):
        bsky.fetch(None)


def test_a_malformed_item_is_skipped_with_a_reason_and_the_rest_kept(sim: BlueskySim) -> None:
    sim.add_notification("buena 1")
    sim.add_raw_notification({"uri": "at://x/app.bsky.feed.post/1", "reason": "mention",
                              "record": {"text": "sin autor"}})
    sim.add_notification("buena 2")
    result = connector(sim).fetch(None)
    assert sorted(p.text for p in result.posts) == ["buena 1", "buena 2"]
    assert len(result.skipped) == 1 and "malformed" in result.skipped[0].reason


def test_a_reply_carries_root_and_parent_refs_and_is_sent_once(sim: BlueskySim) -> None:
    parent = sim.add_notification("¿y mi reembolso?")
    reply = OutgoingReply("reply-7", "Lo revisamos ahora mismo.", parent["uri"])
    with httpx.Client() as http:
        bsky = BlueskyConnector({}, {"identifier": HANDLE, "app_password": PASSWORD},
                                base_url=sim.server.base_url, http=http)
        first = bsky.send(reply)
        second = bsky.send(reply)
    assert first.external_id == second.external_id
    assert first.external_id.endswith("/" + record_key("reply-7"))
    assert len(sim.created) == 1
    record = sim.created[0]["record"]
    assert record["text"] == "Lo revisamos ahora mismo."
    refs = {k: {"uri": v["uri"], "cid": v["cid"]} for k, v in record["reply"].items()
            if isinstance(v, dict)}
    assert refs["parent"] == {"uri": parent["uri"], "cid": parent["cid"]}
    assert refs["root"] == parent["record"]["reply"]["root"]


def test_a_private_reply_is_refused_rather_than_posted_publicly(sim: BlueskySim) -> None:
    with pytest.raises(ConnectorError):
        connector(sim).send(OutgoingReply("k", "privado", "at://x", private=True))
    assert sim.created == []


def test_test_returns_the_handle(sim: BlueskySim) -> None:
    assert connector(sim).test() == HANDLE


def test_our_own_posts_found_by_search_are_not_incoming(sim: BlueskySim) -> None:
    sim.add_post("Barajas: estamos atendiendo a todos", author={"did": BRAND_DID, "handle": HANDLE})
    theirs = sim.add_post("Barajas es un caos")["uri"]
    assert drain(sim, None)[0] == [theirs]
