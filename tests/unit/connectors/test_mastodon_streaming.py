"""Mastodon's streaming API (SSE) as a wake-up signal, against the simulated streaming server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from tests.connectors_sim.mastodon import TOKEN, MastodonSim
from tests.connectors_sim.mastodon_streaming import MastodonStreamingSim

from ventanilla.ingest.connectors.base import AuthError, ConnectorError, RateLimited
from ventanilla.ingest.connectors.mastodon import MastodonConnector, MastodonStream


def until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Run:
    """``stream.listen`` on a thread, recording what it reported."""

    def __init__(self, stream: MastodonStream) -> None:
        self.stream = stream
        self.events: list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.stream.listen(lambda: self.events.append("wake"), lambda: self.events.append("open"))
            self.events.append("returned")
        except BaseException as exc:  # recorded for the test
            self.error = exc


def test_the_user_stream_wakes_on_mentions_only_and_stops_when_interrupted(
        masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    connector = MastodonConnector({"hashtags": ["equipaje"]}, {"access_token": TOKEN}, base_url=sim.server.base_url)
    sources = connector.push_sources()
    assert [s.name for s in sources] == ["notifications", "#equipaje"]
    run = Run(sources[0])
    assert until(lambda: run.events == ["open"])
    # The streaming host came from the instance's urls.streaming_api, not the API host.
    assert streaming.requests == ["/api/v1/streaming/user/notification"]

    favourite = {"id": "1", "type": "favourite", "account": {"id": "9", "acct": "x"}}
    sim._publish("notification", favourite)
    sim.add_mention("@aerolinea hola")
    assert until(lambda: "wake" in run.events)
    assert run.events == ["open", "wake"] and len(streaming.sent) == 2  # the favourite rang nothing

    sources[0].interrupt()
    run.thread.join(10)
    assert not run.thread.is_alive() and run.error is None and run.events[-1] == "returned"


def test_a_refused_stream_raises_the_connectors_errors(masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    with pytest.raises(AuthError):
        MastodonStream(sim.server.base_url, "revoked").listen(lambda: None, lambda: None)
    streaming.refuse(429)
    with pytest.raises(RateLimited):
        MastodonStream(sim.server.base_url, TOKEN).listen(lambda: None, lambda: None)
    streaming.refuse(502)
    with pytest.raises(ConnectorError) as refused:
        MastodonStream(sim.server.base_url, TOKEN).listen(lambda: None, lambda: None)
    assert refused.value.retryable


def test_a_dropped_stream_is_a_retryable_error(masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    run = Run(MastodonStream(sim.server.base_url, TOKEN, hashtag="equipaje"))
    assert until(lambda: run.events == ["open"])
    sim.add_tagged("equipaje", "#equipaje roto")
    assert until(lambda: "wake" in run.events)
    assert streaming.drop() == 1
    run.thread.join(10)
    assert isinstance(run.error, ConnectorError) and run.error.retryable
