"""Polling channels against simulated networks: cursors, crashes, backoff, health, leases,
credential rotation, the `ventanilla channels` command and the admin's channels page."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.conftest import PASSWORD, Desk
from tests.connectors_sim.rss import FeedSim
from tests.connectors_sim.server import SimServer
from tests.connectors_sim.x import ACCOUNT_ID, XSim
from ventanilla.audit.models import AuditEvent
from ventanilla.audit.service import Actor
from ventanilla.cases.models import Case
from ventanilla.cli import app
from ventanilla.db import session_scope, utcnow
from ventanilla.ingest import sync
from ventanilla.ingest.channels import create_channel
from ventanilla.ingest.models import Channel, Post
from ventanilla.ingest.sync import (
    due_channels,
    enable_polling,
    rotate_secrets,
    run_scheduler_once,
    sync_channel,
    sync_state,
)
from ventanilla.ingest.sync_models import ChannelSync
from ventanilla.vault import unseal

TOKEN = "tok-SECRET-0042-abcdef"
runner = CliRunner()


@pytest.fixture
def x_net() -> Iterator[tuple[SimServer, XSim]]:
    with SimServer() as server:
        yield server, XSim(server)


@pytest.fixture
def feeds() -> Iterator[tuple[SimServer, FeedSim]]:
    with SimServer() as server:
        yield server, FeedSim(server)


def add_x_channel(engine: Engine, desk: Desk, base_url: str, slug: str = "x-acme", token: str = TOKEN) -> int:
    with session_scope(engine) as s:
        channel = create_channel(s, workspace_id=desk.workspace_id, slug=slug, name="X @AcmeAyuda", network="x",
                                 account="@AcmeAyuda", secrets_={"access_token": token},
                                 settings={"base_url": base_url, "user_id": ACCOUNT_ID})
        enable_polling(s, channel, poll_seconds=300)
        return channel.id


def add_rss_channel(engine: Engine, desk: Desk, base_url: str, paths: list[str]) -> int:
    with session_scope(engine) as s:
        channel = create_channel(s, workspace_id=desk.workspace_id, slug="reviews", name="Reviews", network="rss",
                                 settings={"base_url": base_url, "feeds": paths, "brand_terms": []})
        enable_polling(s, channel, poll_seconds=600)
        return channel.id


def counts(engine: Engine, channel_id: int) -> tuple[int, int, int]:
    """(posts, posts without a case, distinct external ids) on the channel."""
    with session_scope(engine) as s:
        where = Post.channel_id == channel_id
        posts = s.scalar(select(func.count()).select_from(Post).where(where)) or 0
        loose = s.scalar(select(func.count()).select_from(Post).where(where, Post.case_id.is_(None))) or 0
        distinct = s.scalar(select(func.count(func.distinct(Post.external_id))).where(where)) or 0
        return posts, loose, distinct


def state_of(engine: Engine, channel_id: int) -> ChannelSync:
    with session_scope(engine) as s:
        state = sync_state(s, channel_id)
        assert state is not None
        s.expunge(state)
        return state


def test_first_sync_stores_posts_and_opens_cases_and_the_second_adds_only_new_ones(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    mentions = x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    with session_scope(engine) as s:
        assert due_channels(s) == [channel_id]  # a new polled channel is due at once

    first = sync_channel(engine, channel_id, owner="worker-1")
    assert (first.status, first.new, first.duplicates) == ("ok", len(mentions), 0)
    assert counts(engine, channel_id) == (len(mentions), 0, len(mentions))
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.channel_id == channel_id))
        assert due_channels(s) == []
        assert due_channels(s, utcnow() + timedelta(seconds=301)) == [channel_id]
    state = state_of(engine, channel_id)
    assert state.cursor and state.healthy and state.failures == 0 and state.lease_owner is None
    assert state.next_sync_at is not None and state.last_sync_at is not None
    assert 299 <= (state.next_sync_at - state.last_sync_at).total_seconds() <= 301

    x.add_mention("@AcmeAyuda mi maleta no llegó a Bilbao")
    second = sync_channel(engine, channel_id, owner="worker-1")
    assert (second.status, second.new, second.duplicates) == ("ok", 1, 0)
    assert counts(engine, channel_id) == (len(mentions) + 1, 0, len(mentions) + 1)
    # The second sync asked only for what is newer than the first sweep's top.
    mention_calls = server.requests_to("GET", f"/2/users/{ACCOUNT_ID}/mentions")
    assert "since_id" not in mention_calls[0].query and mention_calls[-1].query["since_id"]


class Crash(BaseException):
    """The process dies (not an error the sync could catch)."""


def test_a_crash_between_accept_and_cursor_save_loses_nothing_and_doubles_nothing(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim], monkeypatch: pytest.MonkeyPatch) -> None:
    server, x = x_net
    mentions = x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash()

    monkeypatch.setattr(sync, "save_cursor", crash)
    with pytest.raises(Crash):
        sync_channel(engine, channel_id, owner="dead-worker", lease_seconds=3)
    # The posts were committed, the cursor was not, and the pipeline never saw them.
    assert counts(engine, channel_id) == (len(mentions), len(mentions), len(mentions))
    state = state_of(engine, channel_id)
    assert state.cursor is None and state.lease_owner == "dead-worker" and state.lease_until is not None
    monkeypatch.undo()

    # Another worker can take over only when the dead one's lease runs out.
    assert sync_channel(engine, channel_id, owner="new-worker").status == "busy"
    time.sleep(max(0.0, (state.lease_until - utcnow()).total_seconds()) + 0.1)
    restarted = sync_channel(engine, channel_id, owner="new-worker")
    assert (restarted.status, restarted.new, restarted.duplicates) == ("ok", 0, len(mentions))
    assert counts(engine, channel_id) == (len(mentions), 0, len(mentions))  # each once, each in a case
    x.add_mention("@AcmeAyuda ¿y mi reembolso?")
    assert sync_channel(engine, channel_id, owner="new-worker").new == 1
    assert counts(engine, channel_id) == (len(mentions) + 1, 0, len(mentions) + 1)


def test_a_429_backs_off_for_the_time_the_network_asked(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    server.fail_with_rate_limit(reset_in=120)
    before = utcnow()
    outcome = sync_channel(engine, channel_id, owner="w")
    assert outcome.status == "rate_limited" and "rate limited" in (outcome.error or "")
    state = state_of(engine, channel_id)
    assert state.backoff_until is not None
    assert 110 <= (state.backoff_until - before).total_seconds() <= 122
    assert state.healthy and state.failures == 0 and state.lease_owner is None
    with session_scope(engine) as s:
        assert due_channels(s) == []
        assert due_channels(s, state.backoff_until + timedelta(seconds=1)) == [channel_id]


def test_a_burst_of_500s_backs_off_longer_each_time_then_recovers(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    mentions = x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    server.fail_with_status(500, times=3)
    waits = []
    for failures in (1, 2, 3):
        started = utcnow()
        assert sync_channel(engine, channel_id, owner="w").status == "failed"
        state = state_of(engine, channel_id)
        assert state.failures == failures and state.healthy  # fewer than five: still healthy
        assert state.last_error and "network error" in state.last_error and TOKEN not in state.last_error
        assert state.backoff_until is not None
        waits.append((state.backoff_until - started).total_seconds())
        delay = 30 * 2 ** (failures - 1)
        assert delay / 2 - 1 <= waits[-1] <= delay + 1  # equal jitter: between half and all of it
        with session_scope(engine) as s:
            assert due_channels(s) == []
    ok = sync_channel(engine, channel_id, owner="w")
    assert (ok.status, ok.new) == ("ok", len(mentions))
    state = state_of(engine, channel_id)
    assert (state.failures, state.healthy, state.last_error, state.backoff_until) == (0, True, None, None)


def test_five_failures_in_a_row_mark_the_channel_unhealthy_and_a_success_heals_it(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    server.fail_with_status(503, times=5)
    for _ in range(5):
        sync_channel(engine, channel_id, owner="w")
    state = state_of(engine, channel_id)
    assert (state.failures, state.healthy) == (5, False)
    assert sync_channel(engine, channel_id, owner="w").status == "ok"
    assert state_of(engine, channel_id).healthy
    with session_scope(engine) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "channel",
                                                                 AuditEvent.target_id == str(channel_id))))
    assert actions.count("channel.unhealthy") == 1 and actions.count("channel.recovered") == 1


def test_a_failed_sync_costs_the_others_two_short_writes_and_no_audit_event(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    from sqlalchemy import event

    server, x = x_net
    x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    assert sync_channel(engine, channel_id, owner="w").status == "ok"  # the channel has its sync row
    with session_scope(engine) as s:
        audited = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
    transactions: list[bool] = []

    def began(conn: object) -> None:
        transactions.append(bool(conn.get_execution_options().get("readonly")))  # type: ignore[attr-defined]

    event.listen(engine, "begin", began)
    try:
        server.fail_with_status(500, times=3)
        outcomes = [sync_channel(engine, channel_id, owner="w") for _ in range(3)]
    finally:
        event.remove(engine, "begin", began)
    assert [o.status for o in outcomes] == ["failed"] * 3 and outcomes[0].slug == "x-acme"
    # Per failed sync: take the lease, then one transaction for failures, backoff, last error and
    # the lease's release. The read in between does not queue for SQLite's write lock.
    assert transactions.count(False) == 2 * 3 and transactions.count(True) == 3
    state = state_of(engine, channel_id)
    assert (state.failures, state.healthy, state.lease_owner) == (3, True, None)
    assert state.last_error and "HTTP 500" in state.last_error
    with session_scope(engine) as s:  # still healthy: nothing for the audit trail yet
        assert (s.scalar(select(func.count()).select_from(AuditEvent)) or 0) == audited


def test_an_expired_token_marks_the_channel_unhealthy_and_the_other_channel_still_syncs(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim],
        feeds: tuple[SimServer, FeedSim]) -> None:
    server, x = x_net
    x.load_mentions()
    feed_server, feed = feeds
    x_id = add_x_channel(engine, desk, server.base_url)
    rss_id = add_rss_channel(engine, desk, feed_server.base_url, feed.load())
    server.expire_token()

    outcomes = {o.channel_id: o for o in run_scheduler_once(engine, owner="scheduler")}
    assert outcomes[x_id].status == "auth_failed"
    assert outcomes[rss_id].status == "ok" and outcomes[rss_id].new > 0
    assert counts(engine, rss_id)[0] == outcomes[rss_id].new
    state = state_of(engine, x_id)
    assert not state.healthy and state.failures == 1
    assert state.last_error and state.last_error.startswith("credentials refused (rotate them)")
    assert TOKEN not in state.last_error
    with session_scope(engine) as s:  # parked: not retried at the next tick
        assert x_id not in due_channels(s, utcnow() + timedelta(minutes=30))


def test_a_lease_keeps_one_channel_on_one_worker(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    mentions = x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    entered, gate = threading.Event(), threading.Event()
    dm_events = server._routes[("GET", "/2/dm_events")]

    def slow_dm_events(request):  # type: ignore[no-untyped-def]
        entered.set()
        gate.wait(10)
        return dm_events(request)

    server.route("GET", "/2/dm_events", slow_dm_events)
    results: dict[str, sync.SyncOutcome] = {}

    def worker(name: str) -> None:
        results[name] = sync_channel(engine, channel_id, owner=name)

    first = threading.Thread(target=worker, args=("worker-a",))
    first.start()
    assert entered.wait(10), "worker A never reached the network"
    second = threading.Thread(target=worker, args=("worker-b",))
    second.start()
    second.join(10)
    gate.set()
    first.join(10)
    assert results["worker-b"].status == "busy" and results["worker-b"].pages == 0
    assert results["worker-a"].status == "ok" and results["worker-a"].new == len(mentions)
    assert counts(engine, channel_id) == (len(mentions), 0, len(mentions))
    assert len(server.requests_to("GET", "/2/dm_events")) == 1
    assert state_of(engine, channel_id).lease_owner is None


def test_rotating_credentials_re_encrypts_them_and_the_audit_trail_holds_no_secret(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    server.expire_token()
    assert sync_channel(engine, channel_id, owner="w").status == "auth_failed"
    server.renew_token()
    new_token = "tok-ROTATED-7777-zyxwvu"
    with session_scope(engine) as s:
        channel = s.get(Channel, channel_id)
        assert channel is not None
        sealed_before = channel.secrets_encrypted
        webhook_before = unseal(sealed_before)["webhook_secret"]
        keys = rotate_secrets(s, channel, {"access_token": new_token, "api_key": "k-NEW-123456"},
                              Actor("admin@brisa.test", desk.users["admin"]))
        assert keys == {"added": ["api_key"], "changed": ["access_token"], "removed": []}
        assert channel.secrets_encrypted != sealed_before and new_token not in (channel.secrets_encrypted or "")
        stored = unseal(channel.secrets_encrypted)
        assert stored["access_token"] == new_token and stored["webhook_secret"] == webhook_before
    with session_scope(engine) as s:  # the parked channel is due again at once
        assert channel_id in due_channels(s)
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.target_type == "channel")))
    rotated = [e for e in events if e.action == "channel.secrets_rotated"]
    assert len(rotated) == 1 and rotated[0].actor == "admin@brisa.test"
    assert rotated[0].after is not None and rotated[0].after["changed"] == ["access_token"]
    trail = json.dumps([[e.before, e.after] for e in events])
    for secret in (TOKEN, new_token, "k-NEW-123456", webhook_before):
        assert secret not in trail
    assert sync_channel(engine, channel_id, owner="w").status == "ok"
    assert state_of(engine, channel_id).healthy
    # Signed requests now carry the new token.
    assert server.requests[-1].headers["authorization"] == f"Bearer {new_token}"


def test_the_channels_command_adds_lists_tests_syncs_and_rotates(
        engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    mentions = x.load_mentions()
    added = runner.invoke(app, ["channels", "add", "x-cli", "X CLI", "x", "@AcmeAyuda", "-w", desk.slug,
                                "--setting", f"base_url={server.base_url}", "--setting", f"user_id={ACCOUNT_ID}",
                                "--secret", "access_token", "--poll-seconds", "120"], input=f"{TOKEN}\n")
    assert added.exit_code == 0, added.output
    assert "x-cli" in added.output and "/api/v1/webhooks/" in added.output and TOKEN not in added.output
    bad = runner.invoke(app, ["channels", "add", "nope", "Nope", "myspace", "-w", desk.slug])
    assert bad.exit_code == 2 and "unknown network" in bad.output
    again = runner.invoke(app, ["channels", "add", "x-cli", "Again", "x", "-w", desk.slug])
    assert again.exit_code == 2 and "already exists" in again.output

    tested = runner.invoke(app, ["channels", "test", "x-cli", "-w", desk.slug])
    assert tested.exit_code == 0 and "@AcmeAyuda" in tested.output

    synced = runner.invoke(app, ["channels", "sync", "-w", desk.slug])
    assert synced.exit_code == 0, synced.output
    assert "x-cli" in synced.output and f"{len(mentions)} new post(s)" in synced.output
    x.add_mention("@AcmeAyuda el vuelo va con retraso")
    looped = runner.invoke(app, ["channels", "sync", "x-cli", "-w", desk.slug, "--json", "--loop",
                                 "--rounds", "1"])
    assert looped.exit_code == 0, looped.output
    assert json.loads(looped.output)[0]["new"] == 1

    listed = runner.invoke(app, ["channels", "list", "-w", desk.slug, "--json"])
    rows = {r["slug"]: r for r in json.loads(listed.output)}
    assert rows["x-cli"]["health"] == "ok" and rows["x-cli"]["poll_seconds"] == 120
    assert rows["x-brisa"]["health"] == "not polled"
    assert TOKEN not in listed.output

    server.expire_token()
    refused = runner.invoke(app, ["channels", "test", "x-cli", "-w", desk.slug])
    assert refused.exit_code == 1 and "credentials refused" in refused.output and TOKEN not in refused.output
    failed = runner.invoke(app, ["channels", "sync", "x-cli", "-w", desk.slug])
    assert failed.exit_code == 1 and "auth_failed" in failed.output
    table = runner.invoke(app, ["channels", "list", "-w", desk.slug])
    assert "unhealthy" in table.output and "credentials refused" in table.output

    rotated = runner.invoke(app, ["channels", "rotate", "x-cli", "-w", desk.slug,
                                  "--secret", "access_token=tok-CLI-ROTATED-1234"])
    assert rotated.exit_code == 0 and "changed: access_token" in rotated.output
    assert "tok-CLI-ROTATED-1234" not in rotated.output


@pytest.fixture
def client(desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, role: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": f"{role}@brisa.test", "password": PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303


def test_the_channels_page_is_for_admins_only(client: TestClient, desk: Desk) -> None:
    sign_in(client, "agent")
    assert client.get("/admin/channels").status_code == 403
    assert client.post(f"/admin/channels/{desk.channel_id}/test",
                       data={"csrf_token": csrf_of(client.get("/").text)}).status_code == 403


def test_the_admin_tests_syncs_rotates_and_adds_channels_from_the_page(
        client: TestClient, engine: Engine, desk: Desk, x_net: tuple[SimServer, XSim]) -> None:
    server, x = x_net
    mentions = x.load_mentions()
    channel_id = add_x_channel(engine, desk, server.base_url)
    sign_in(client, "admin")
    page = client.get("/admin/channels")
    assert page.status_code == 200 and 'href="/admin/channels"' in page.text
    assert f"/api/v1/webhooks/{channel_id}" in page.text and "X @AcmeAyuda" in page.text
    assert TOKEN not in page.text
    token = csrf_of(page.text)

    assert client.post(f"/admin/channels/{channel_id}/test").status_code == 403  # no CSRF token
    tested = client.post(f"/admin/channels/{channel_id}/test", data={"csrf_token": token})
    assert tested.status_code == 200 and "Connected as @AcmeAyuda." in tested.text

    synced = client.post(f"/admin/channels/{channel_id}/sync", data={"csrf_token": token})
    assert synced.status_code == 200
    assert counts(engine, channel_id) == (len(mentions), 0, len(mentions))

    server.expire_token()
    refused = client.post(f"/admin/channels/{channel_id}/test", data={"csrf_token": token})
    assert "credentials refused" in refused.text and TOKEN not in refused.text
    client.post(f"/admin/channels/{channel_id}/sync", data={"csrf_token": token})
    unhealthy = client.get("/admin/channels").text
    assert "health-unhealthy" in unhealthy and "Unhealthy" in unhealthy and "credentials refused" in unhealthy

    new_token = "tok-WEB-ROTATED-5555"
    rotated = client.post(f"/admin/channels/{channel_id}/rotate", data={
        "csrf_token": token, "secret_key": ["access_token", "", ""], "secret_value": [new_token, "", ""]})
    assert rotated.status_code == 200 and "Credentials stored: access_token." in rotated.text
    assert new_token not in rotated.text
    with session_scope(engine) as s:
        channel = s.get(Channel, channel_id)
        assert channel is not None and unseal(channel.secrets_encrypted)["access_token"] == new_token

    added = client.post("/admin/channels", data={
        "csrf_token": token, "slug": "blog-feed", "name": "Blog mentions", "network": "rss",
        "visibility": "auto", "poll_seconds": "900", "settings": 'feeds=["https://blog.example/feed"]',
        "secret_key": ["", "", ""], "secret_value": ["", "", ""]}, follow_redirects=False)
    assert added.status_code == 303
    listing = client.get("/admin/channels").text
    assert "Blog mentions" in listing
    duplicate = client.post("/admin/channels", data={
        "csrf_token": token, "slug": "blog-feed", "name": "Again", "network": "rss"})
    assert duplicate.status_code == 422 and "already exists" in duplicate.text
    with session_scope(engine) as s:
        blog = s.scalar(select(Channel).where(Channel.slug == "blog-feed"))
        assert blog is not None and blog.settings == {"feeds": ["https://blog.example/feed"]}
        state = sync_state(s, blog.id)
        assert state is not None and state.poll_seconds == 900
