"""Channels whose tokens expire, and channels that hang: the scheduler renews the first and
isolates the second (no timings asserted; the hanging network is held by an event)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from tests.conftest import Desk
from tests.connectors_sim.oauth import OAuthSim
from tests.connectors_sim.rss import FeedSim
from tests.connectors_sim.server import SimRequest, SimResponse, SimServer
from tests.connectors_sim.x import ACCOUNT_ID, XSim
from tests.integration.test_channel_sync import add_rss_channel, counts, state_of
from ventanilla.audit.models import AuditEvent
from ventanilla.db import session_scope
from ventanilla.ingest.channels import create_channel
from ventanilla.ingest.models import Channel
from ventanilla.ingest.sync import enable_polling, run_scheduler_once, sync_channel
from ventanilla.vault import unseal


@pytest.fixture
def x_oauth() -> Iterator[tuple[SimServer, XSim, OAuthSim]]:
    with SimServer() as server:
        x = XSim(server)
        yield server, x, OAuthSim(server, "/2/oauth2/token", client_id="x-client", rotate=True)


def add_oauth2_x_channel(engine: Engine, desk: Desk, base_url: str, creds: dict[str, str],
                         slug: str = "x-oauth2") -> int:
    with session_scope(engine) as s:
        channel = create_channel(s, workspace_id=desk.workspace_id, slug=slug, name="X @AcmeAyuda",
                                 network="x", account="@AcmeAyuda", secrets_=creds,
                                 settings={"base_url": base_url, "user_id": ACCOUNT_ID, "streams": ["mentions"]})
        enable_polling(s, channel, poll_seconds=300)
        return channel.id


def stored(engine: Engine, channel_id: int) -> tuple[str, dict[str, str]]:
    with session_scope(engine) as s:
        channel = s.get(Channel, channel_id)
        assert channel is not None
        return channel.secrets_encrypted or "", unseal(channel.secrets_encrypted)


def test_an_expired_x_token_is_refreshed_stored_encrypted_and_the_sync_goes_on(
        engine: Engine, desk: Desk, x_oauth: tuple[SimServer, XSim, OAuthSim],
        caplog: pytest.LogCaptureFixture) -> None:
    server, x, oauth = x_oauth
    x.load_mentions()
    creds = oauth.credentials()
    channel_id = add_oauth2_x_channel(engine, desk, server.base_url, creds)
    first = sync_channel(engine, channel_id, owner="w")
    assert first.status == "ok" and first.new

    oauth.expire_access_tokens()
    x.add_mention("@AcmeAyuda sigo esperando el reembolso")
    with caplog.at_level(logging.DEBUG):
        second = sync_channel(engine, channel_id, owner="w")
    assert (second.status, second.new) == ("ok", 1)
    assert oauth.refreshes == 1

    sealed, secrets_ = stored(engine, channel_id)
    assert secrets_["access_token"] in oauth.access and secrets_["refresh_token"] in oauth.refresh
    assert secrets_["refresh_token"] != creds["refresh_token"] and secrets_["webhook_secret"]
    for value in (secrets_["access_token"], secrets_["refresh_token"]):
        assert value not in sealed  # encrypted at rest
        assert value not in caplog.text  # never logged
    with session_scope(engine) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "channel.credentials_refreshed")))
    assert len(events) == 1 and "SECRETVALUE" not in str(events[0].after)
    assert state_of(engine, channel_id).healthy

    # The next poll (the cached connector, or a new process reading the store) needs no refresh.
    x.add_mention("@AcmeAyuda otra más")
    assert sync_channel(engine, channel_id, owner="w").new == 1
    assert oauth.refreshes == 1


def test_a_refused_refresh_marks_the_channel_unhealthy_with_the_reason(
        engine: Engine, desk: Desk, x_oauth: tuple[SimServer, XSim, OAuthSim]) -> None:
    server, x, oauth = x_oauth
    x.load_mentions()
    creds = oauth.credentials()
    channel_id = add_oauth2_x_channel(engine, desk, server.base_url, creds)
    oauth.expire_access_tokens()
    oauth.revoke_refresh_tokens()
    outcome = sync_channel(engine, channel_id, owner="w")
    assert outcome.status == "auth_failed"
    state = state_of(engine, channel_id)
    assert not state.healthy and state.last_error
    assert "token refresh refused" in state.last_error and "invalid_grant" in state.last_error
    assert creds["refresh_token"] not in state.last_error and creds["access_token"] not in state.last_error
    assert stored(engine, channel_id)[1]["refresh_token"] == creds["refresh_token"]  # nothing overwritten


def test_a_hanging_channel_does_not_stop_the_others_from_syncing(engine: Engine, desk: Desk) -> None:
    """One network holds its answer until the test lets go; the round syncs every other
    channel meanwhile (their posts are stored while the hanging request is still open)."""
    with SimServer() as hang_server, SimServer() as x_server, SimServer() as feed_server:
        entered, release = threading.Event(), threading.Event()
        hanging = XSim(hang_server)
        hanging.load_mentions()
        def hang(request: SimRequest) -> SimResponse | None:
            entered.set()
            release.wait(60)
            return None  # then answer normally

        hang_server.guards.append(hang)  # every request to this network hangs
        x = XSim(x_server)
        x.load_mentions()
        feed = FeedSim(feed_server)
        hang_id = add_oauth2_x_channel(engine, desk, hang_server.base_url, {"access_token": "t"}, slug="x-hangs")
        x_id = add_oauth2_x_channel(engine, desk, x_server.base_url, {"access_token": "t"}, slug="x-ok")
        rss_id = add_rss_channel(engine, desk, feed_server.base_url, feed.load())
        results: list[object] = []
        round_ = threading.Thread(target=lambda: results.extend(run_scheduler_once(engine, owner="s", workers=4)))
        round_.start()
        try:
            assert entered.wait(30), "the hanging channel was never polled"
            # While that request hangs, the other two channels finish their syncs.
            done = threading.Event()
            for _ in range(1200):
                if all(counts(engine, c)[0] and state_of(engine, c).last_sync_at is not None
                       and state_of(engine, c).lease_owner is None for c in (x_id, rss_id)):
                    done.set()
                    break
                done.wait(0.05)
            assert done.is_set(), "the healthy channels did not finish syncing while one channel hung"
            assert counts(engine, hang_id)[0] == 0
            assert state_of(engine, hang_id).lease_owner == "s"  # still inside its hanging request
        finally:
            release.set()
            round_.join(60)
        assert {o.channel_id: o.status for o in results} == {hang_id: "ok", x_id: "ok", rss_id: "ok"}  # type: ignore[attr-defined]


def test_a_slow_channel_gives_up_its_turn_after_its_time_budget(
        engine: Engine, desk: Desk, x_oauth: tuple[SimServer, XSim, OAuthSim]) -> None:
    server, x, oauth = x_oauth
    x.load_mentions()
    channel_id = add_oauth2_x_channel(engine, desk, server.base_url, oauth.credentials())
    with session_scope(engine) as s:
        channel = s.get(Channel, channel_id)
        assert channel is not None
        channel.settings = {**channel.settings, "streams": ["mentions", "dms"]}
    outcome = sync_channel(engine, channel_id, owner="w", max_seconds=0)
    assert (outcome.status, outcome.pages, outcome.more) == ("ok", 1, True)  # stays due, lease freed
    assert state_of(engine, channel_id).lease_owner is None
