"""The RSS/Atom connector against simulated feeds on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.connectors_sim.rss import FeedSim
from tests.connectors_sim.server import SimServer

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    RateLimited,
)
from ventanilla.ingest.connectors.rss import RssConnector, SendNotSupported
from ventanilla.ingest.schema import IncomingPost, PostKind

# One client for the module: building an httpx.Client (TLS context) costs ~0.2 s.
HTTP = httpx.Client(timeout=10.0)


@pytest.fixture
def sim() -> Iterator[FeedSim]:
    with SimServer() as server:
        yield FeedSim(server)


def connector(sim: FeedSim, feeds: list[str], **settings: object) -> RssConnector:
    return RssConnector({"feeds": feeds, "brand_terms": ["Acme"], **settings}, {},
                        base_url=sim.server.base_url, http=HTTP)


def drain(conn: RssConnector, cursor: str | None) -> tuple[list[IncomingPost], str | None]:
    posts: list[IncomingPost] = []
    while True:
        result = conn.fetch(cursor)
        posts += result.posts
        cursor = result.cursor
        if not result.more:
            return posts, cursor


def test_first_sync_keeps_entries_that_mention_the_brand(sim: FeedSim) -> None:
    feeds = sim.load()
    conn = connector(sim, feeds, kind="review")
    reviews = conn.fetch(None)
    assert [p.external_id for p in reviews.posts] == ["opiniones-88121", "opiniones-88102"]
    first = reviews.posts[0]
    assert first.kind is PostKind.review and first.network == "rss"
    assert first.author.handle == "Marisa G."
    assert first.text.startswith("Acme: pésimo servicio postventa\n\nPedí una lavadora en Acme")
    assert "<" not in first.text and "alert" not in first.text and "&amp;" not in first.text
    assert first.url == "https://opiniones.example/tiendas/acme/r/88121"
    assert first.language == "es-es"
    assert len(reviews.skipped) == 1 and "id" in reviews.skipped[0].reason
    assert reviews.more
    blog = conn.fetch(reviews.cursor)
    assert [p.author.handle for p in blog.posts] == ["Hannah Cole"]
    assert blog.posts[0].created_at.isoformat() == "2026-11-23T08:55:00+00:00"
    assert not blog.more


def test_an_unchanged_feed_costs_a_304_and_only_new_entries_come_back(sim: FeedSim) -> None:
    feeds = sim.load()
    _, cursor = drain(connector(sim, feeds), None)
    again, cursor = drain(connector(sim, feeds), cursor)
    assert again == []
    conditional = sim.server.requests_to("GET", "/feeds/reviews.rss")[-1]
    assert conditional.headers["if-none-match"] == sim.etag("reviews.rss")
    sim.add_rss_item("reviews.rss", "opiniones-88130", "Acme me cobró dos veces",
                     "Y el chat no resuelve nada.")
    sim.add_rss_item("reviews.rss", "opiniones-88131", "Otra tienda bien", "Sin quejas.")
    posts, cursor = drain(connector(sim, feeds), cursor)
    assert [p.external_id for p in posts] == ["opiniones-88130"]
    assert drain(connector(sim, feeds), cursor)[0] == []


def test_a_restart_after_one_feed_resumes_at_the_next(sim: FeedSim) -> None:
    feeds = sim.load()
    first = connector(sim, feeds).fetch(None)
    rest, _ = drain(connector(sim, feeds), first.cursor)
    ids = [p.external_id for p in first.posts + rest]
    assert ids == ["opiniones-88121", "opiniones-88102", "tag:gripes.example,2026:post-311"]


def test_http_errors_map_to_connector_errors(sim: FeedSim) -> None:
    feeds = sim.load()
    sim.server.fail_with_rate_limit(reset_in=90)
    with pytest.raises(RateLimited) as limited:
        connector(sim, feeds).fetch(None)
    assert limited.value.retry_after == 90
    sim.server.fail_with_status(502, times=2)
    for _ in range(2):
        with pytest.raises(ConnectorError) as failed:
            connector(sim, feeds).fetch(None)
        assert failed.value.retryable
    assert connector(sim, feeds).fetch(None).posts
    sim.server.expire_token()
    with pytest.raises(AuthError):
        connector(sim, feeds).fetch(None)


def test_a_page_that_is_not_a_feed_is_a_clear_error(sim: FeedSim) -> None:
    path = sim.publish("broken.rss", "<html><body>Cloudflare says hi</body>")
    with pytest.raises(ConnectorError, match="not a feed"):
        connector(sim, [path]).fetch(None)


def test_test_returns_the_feed_title(sim: FeedSim) -> None:
    assert connector(sim, sim.load()).test() == "Opiniones de Tiendas"


def test_send_is_not_supported(sim: FeedSim) -> None:
    with pytest.raises(SendNotSupported) as refused:
        connector(sim, []).send(OutgoingReply(idempotency_key="k", text="hola",
                                              in_reply_to_external_id="x"))
    assert not refused.value.retryable
