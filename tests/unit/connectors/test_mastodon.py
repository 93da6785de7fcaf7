"""The Mastodon connector against a simulated instance on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.connectors_sim.drain import drain_ids
from tests.connectors_sim.mastodon import TOKEN, MastodonSim, fixture
from tests.connectors_sim.server import SimServer

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.mastodon import (
    MastodonConnector,
    normalise,
    plain_text_from_html,
)
from ventanilla.ingest.schema import PostKind


@pytest.fixture
def sim() -> Iterator[MastodonSim]:
    with SimServer() as server:
        yield MastodonSim(server)


def connector(sim: MastodonSim, token: str = TOKEN, **settings: object) -> MastodonConnector:
    return MastodonConnector(
        {"hashtags": ["equipaje"], "page_size": 5, **settings},
        {"access_token": token},
        base_url=sim.server.base_url,
    )


def drain(sim: MastodonSim, cursor: str | None) -> tuple[list[str], str | None]:
    return drain_ids(lambda: connector(sim), cursor)


def test_a_recorded_mention_normalises_to_plain_text_with_its_author_and_counts() -> None:
    post = normalise(fixture("notification_mention.json"))
    assert post.network == "mastodon"
    assert post.external_id == "109364523894124765"
    assert post.kind is PostKind.mention
    assert post.text == (
        "@aerolinea llevo 3 horas esperando mi maleta & nadie responde.\n"
        "¿Alguien me ayuda? #equipaje\n\nVuelo https://example.com/reservas/abc123"
    )
    assert post.author.handle == "lucia@social.example"
    assert post.author.display_name == "Lucía Ortega"
    assert post.author.followers == 812
    assert (post.likes, post.shares, post.replies) == (11, 5, 2)
    assert post.language == "es"
    assert post.thread_external_id == post.external_id


def test_a_reply_keeps_its_parent_and_script_never_survives_as_markup() -> None:
    post = normalise(fixture("status_hashtag_reply.json"))
    assert post.kind is PostKind.reply
    assert post.parent_external_id == "109364523894124765"
    assert post.text == "queja\n\nSame here, two days <script> without luggage #equipaje"
    assert "alert" not in post.text


def test_html_to_text_handles_entities_breaks_and_plain_input() -> None:
    assert plain_text_from_html("a&nbsp;b<br>c<p>d</p>") == "a b\nc\n\nd"
    assert plain_text_from_html("just text") == "just text"


def test_first_sync_then_incremental_sync_returns_only_new_items(sim: MastodonSim) -> None:
    first = [sim.add_mention(f"queja {i}")["status"]["id"] for i in range(3)]
    tagged = sim.add_tagged("equipaje", "etiquetada")["id"]
    mentions = connector(sim).fetch(None)
    assert sorted(p.external_id for p in mentions.posts) == sorted(first)
    assert mentions.more is True  # the hashtag's turn comes next, at once
    seen, cursor = drain(sim, mentions.cursor)
    assert seen == [tagged]

    new = sim.add_mention("nueva")["status"]["id"]
    again, cursor = drain(sim, cursor)
    assert again == [new]
    assert drain(sim, cursor)[0] == []


def test_a_restart_in_the_middle_of_pages_misses_and_doubles_nothing(sim: MastodonSim) -> None:
    sim.add_mention("vieja")
    _, cursor = drain(sim, None)
    backlog = [sim.add_mention(f"pendiente {i}")["status"]["id"] for i in range(12)]
    backlog += [sim.add_tagged("equipaje", f"etiqueta {i}")["id"] for i in range(7)]

    page1 = connector(sim).fetch(cursor)
    assert page1.more is True and len(page1.posts) == 5
    # the process dies here; a new connector resumes from the persisted cursor
    rest, _ = drain(sim, page1.cursor)
    seen = [p.external_id for p in page1.posts] + rest
    assert sorted(seen) == sorted(backlog)
    assert len(seen) == len(set(seen))


def test_a_429_becomes_rate_limited_with_the_reset_from_x_ratelimit_reset(
    sim: MastodonSim,
) -> None:
    sim.server.fail_with_rate_limit(reset_in=120)
    with pytest.raises(RateLimited) as caught:
        connector(sim).fetch(None)
    assert 100 <= caught.value.retry_after <= 121


def test_a_500_burst_is_retryable_and_the_next_poll_succeeds(sim: MastodonSim) -> None:
    sim.add_mention("hola")
    sim.server.fail_with_status(500, times=1)
    with pytest.raises(ConnectorError) as caught:
        connector(sim).fetch(None)
    assert caught.value.retryable is True
    assert len(connector(sim).fetch(None).posts) == 1


def test_an_invalid_token_is_an_auth_error(sim: MastodonSim) -> None:
    with pytest.raises(AuthError):
        connector(sim, token="revoked").fetch(None)
    with pytest.raises(AuthError):
        connector(sim, token="revoked").test()


def test_a_malformed_item_is_skipped_with_a_reason_and_the_rest_kept(sim: MastodonSim) -> None:
    sim.add_mention("buena 1")
    sim.add_raw_notification({"type": "mention", "status": {"content": "<p>sin cuenta</p>"}})
    sim.add_mention("buena 2")
    result = connector(sim).fetch(None)
    assert [p.text for p in result.posts] == ["buena 1", "buena 2"]
    assert len(result.skipped) == 1
    assert "malformed" in result.skipped[0].reason


def test_a_reply_is_posted_once_per_idempotency_key(sim: MastodonSim) -> None:
    reply = OutgoingReply(
        idempotency_key="reply-42",
        text="Lo sentimos, te escribimos por privado.",
        in_reply_to_external_id="109364523894124765",
        recipient_handle="lucia@social.example",
    )
    first = connector(sim).send(reply)
    second = connector(sim).send(reply)
    assert first.external_id == second.external_id
    assert len(sim.posted) == 1
    posted = sim.posted[0]
    assert posted["idempotency_key"] == "reply-42"
    assert posted["form"]["in_reply_to_id"] == "109364523894124765"
    assert posted["form"]["status"] == (
        "@lucia@social.example Lo sentimos, te escribimos por privado."
    )
    assert posted["form"]["visibility"] == "public"


def test_a_private_reply_is_a_direct_status(sim: MastodonSim) -> None:
    reply = OutgoingReply("dm-1", "¿Nos pasas tu localizador?", "1", private=True,
                          recipient_handle="@lucia@social.example")
    connector(sim).send(reply)
    assert sim.posted[0]["form"]["visibility"] == "direct"


def test_test_returns_the_account_name(sim: MastodonSim) -> None:
    assert connector(sim).test() == "aerolinea"


def test_a_broken_cursor_is_a_clear_error(sim: MastodonSim) -> None:
    with pytest.raises(ConnectorError):
        connector(sim).fetch("not json")
    assert json.loads(drain(sim, None)[1] or "{}")["t"] == {"equipaje": "0"}


def test_our_own_tagged_statuses_are_not_incoming(sim: MastodonSim) -> None:
    sim.add_tagged("equipaje", "respuesta de la marca", account=fixture("account_verify_credentials.json"))
    theirs = sim.add_tagged("equipaje", "queja de cliente")["id"]
    assert drain(sim, None)[0] == [theirs]
