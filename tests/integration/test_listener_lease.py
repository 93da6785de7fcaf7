"""One listener per channel, whichever process starts first, and its status on the channels page.

The `channel_listener` row is the lease (compare-and-set UPDATE, heartbeat, stale takeover) and
the status the page shows. Both engines; waits are bounded polls of the database."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.conftest import PASSWORD, Desk
from tests.connectors_sim.mastodon import TOKEN, MastodonSim
from tests.connectors_sim.mastodon_streaming import MastodonStreamingSim
from tests.integration.test_channel_listen import FAST, add_mastodon, has, listening, no_listener_threads, wait_for
from ventanilla.cli import app
from ventanilla.db import session_factory, session_scope, utcnow
from ventanilla.ingest.connectors.base import ConnectorError
from ventanilla.ingest.listen import ChannelListener, Listeners
from ventanilla.ingest.listener_lease import (
    HEARTBEAT_SECONDS,
    STALE_BEATS,
    ListenerLease,
    ListenerStatus,
    is_held,
    listener_states,
)
from ventanilla.ingest.listener_models import ChannelListenerState

BEAT = 1.0  # heartbeat of the listeners below: stale after 3 s (a loaded CI machine stalls threads)



def row(engine: Engine, channel_id: int) -> ChannelListenerState | None:
    with session_scope(engine) as s:
        return listener_states(s, [channel_id]).get(channel_id)


def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def contend(lease: ListenerLease, start: threading.Barrier, won: list[ListenerLease]) -> None:
    start.wait()
    if lease.take():
        won.append(lease)


def test_of_many_processes_taking_a_free_channel_at_once_exactly_one_wins(engine: Engine, desk: Desk) -> None:
    for attempt in range(3):
        contenders = [ListenerLease(factory(engine), desk.channel_id, process=f"contender {n}") for n in range(8)]
        start = threading.Barrier(len(contenders))
        won: list[ListenerLease] = []
        threads = [threading.Thread(target=contend, args=(lease, start, won)) for lease in contenders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(won) == 1, f"attempt {attempt}: {len(won)} winners"
        state = row(engine, desk.channel_id)
        assert state is not None and state.holder == won[0].holder.token
        assert (state.host, state.pid) == (socket.gethostname()[:128], os.getpid())
        assert state.process == won[0].holder.process and is_held(state)
        # Everyone else keeps losing while the winner's heartbeat is fresh.
        assert not any(lease.take() for lease in contenders if lease is not won[0])
        assert won[0].release()


def test_a_stale_holder_is_taken_over_and_learns_it_at_its_next_heartbeat(engine: Engine, desk: Desk) -> None:
    first = ListenerLease(factory(engine), desk.channel_id, process="clock", heartbeat_seconds=HEARTBEAT_SECONDS)
    second = ListenerLease(factory(engine), desk.channel_id, process="channels listen")
    assert first.take() and not second.take()
    assert first.beat(ListenerStatus(listening=True, reconnects=2)) and not second.take()

    # The first process stopped beating (killed): after STALE_BEATS heartbeats it is fair game.
    with session_scope(engine) as s:
        s.execute(update(ChannelListenerState).where(ChannelListenerState.channel_id == desk.channel_id)
                  .values(heartbeat_at=utcnow() - timedelta(seconds=STALE_BEATS * HEARTBEAT_SECONDS + 1)))
    stale = row(engine, desk.channel_id)
    assert stale is not None and stale.holder == first.holder.token and not is_held(stale)
    assert second.take()
    taken = row(engine, desk.channel_id)
    assert taken is not None and taken.process == "channels listen" and taken.reconnects == 0
    assert not first.beat(ListenerStatus(listening=True))  # lost: it must stop
    assert not first.release()  # and cannot free what is not its own
    assert row(engine, desk.channel_id).holder == second.holder.token  # type: ignore[union-attr]

    # Released with its last status: free, and the history stays for the page.
    event = utcnow()
    assert second.release(ListenerStatus(last_event_at=event, reconnects=3, last_error="stream: closed"))
    freed = row(engine, desk.channel_id)
    assert freed is not None and freed.holder is None and freed.host is None and not freed.listening
    assert (freed.reconnects, freed.last_error) == (3, "stream: closed") and freed.last_event_at == event
    assert first.take()


def test_two_processes_listening_to_the_same_channel_run_one_listener(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    channel_id = add_mastodon(engine, desk, sim, hashtags=[])
    clock = Listeners(engine, workspace_id=desk.workspace_id, process="ventanilla clock", heartbeat_seconds=BEAT,
                      **FAST, status_gap=0.0)
    cli = Listeners(engine, channel_ids=[channel_id], process="ventanilla channels listen", heartbeat_seconds=BEAT,
                    **FAST, status_gap=0.0)
    try:
        assert clock.refresh() == ["m-brisa"]
        assert cli.refresh() == [] and cli.held_elsewhere == ["m-brisa"]
        listener = clock.get(channel_id)
        wait_for("the stream is open", listening(listener, 1))
        assert streaming.wait_for_connections(1)

        def status(check: Callable[[ChannelListenerState], bool]) -> Callable[[], bool]:
            return lambda: (lambda state: state is not None and check(state))(row(engine, channel_id))

        wait_for("the status says listening", status(lambda s: s.listening and s.process == "ventanilla clock"))
        mention = sim.add_mention("@aerolinea ¿alguien lee esto?")
        wait_for("the pushed mention is stored", has(engine, channel_id, mention["status"]["id"]))
        wait_for("the event is on the status", status(lambda s: s.last_event_at is not None))
        streaming.drop()
        wait_for("the reconnect is counted", status(lambda s: s.reconnects >= 1 and s.listening))
        assert cli.refresh() == []  # still held: the heartbeat keeps it
        assert streaming.open_streams == 1

        assert clock.close(timeout=10)  # the clock stops: the channel is free at once
        wait_for("the lease is free", status(lambda s: s.holder is None and not s.listening))
        assert cli.refresh() == ["m-brisa"] and cli.held_elsewhere == []
        wait_for("the other process listens", listening(cli.get(channel_id), 1))
        wait_for("its status says so", status(lambda s: s.listening and s.process == "ventanilla channels listen"))
    finally:
        clock.close(timeout=10)
        assert cli.close(timeout=10)
    assert no_listener_threads()
    state = row(engine, channel_id)
    assert state is not None and state.holder is None


def test_a_listener_whose_channel_was_taken_over_stops_and_is_not_restarted_beside_the_new_holder(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    channel_id = add_mastodon(engine, desk, sim, hashtags=[])
    listeners = Listeners(engine, channel_ids=[channel_id], heartbeat_seconds=BEAT, **FAST, status_gap=0.0)
    try:
        listeners.refresh()
        listener = listeners.get(channel_id)
        wait_for("the stream is open", listening(listener, 1))
        assert listener is not None
        with session_scope(engine) as s:  # a process that found our heartbeat stale took the channel
            s.execute(update(ChannelListenerState).where(ChannelListenerState.channel_id == channel_id)
                      .values(holder="someone-else", host="other-host", pid=4242, heartbeat_at=utcnow()
                              + timedelta(minutes=5)))
        wait_for("the listener stops", lambda: listener.lost and not listener.alive)
        wait_for("its stream is closed", lambda: streaming.open_streams == 0)
        assert listeners.refresh() == [] and listeners.held_elsewhere == ["m-brisa"]
        state = row(engine, channel_id)
        assert state is not None and state.holder == "someone-else"  # not released by the loser
    finally:
        assert listeners.close(timeout=10)


class RefusingStream:
    """A push source whose network refuses with a message that quotes the token."""

    name = "stream"

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def listen(self, wake: Callable[[], None], opened: Callable[[], None]) -> None:
        if self.stopped.is_set():
            return
        raise ConnectorError(f"HTTP 502 from https://mastodon.example/stream?access_token={TOKEN}", retryable=True)

    def interrupt(self) -> None:
        self.stopped.set()


def client_signed_in_as_admin() -> TestClient:
    from ventanilla.web.app import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"email": "admin@brisa.test", "password": PASSWORD,
                                           "csrf_token": token.group(1), "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return client


def test_the_channels_page_shows_each_push_channels_listener(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, _ = masto
    channel_id = add_mastodon(engine, desk, sim, hashtags=[])
    client = client_signed_in_as_admin()
    page = client.get("/admin/channels").text
    assert "Push listener" in page and "Does not push" in page  # the X channel
    assert 'class="push-never"' in page

    lease = ListenerLease(factory(engine), channel_id, process="ventanilla clock", heartbeat_seconds=BEAT)
    assert lease.take()
    listener = ChannelListener(engine, channel_id, "m-brisa", [RefusingStream()], secrets_={"access_token": TOKEN},
                               lease=lease, **FAST, status_gap=0.0)
    listener.start()
    try:
        def shown() -> bool:
            state = row(engine, channel_id)
            return state is not None and state.reconnects >= 2 and state.last_error is not None

        wait_for("the refusals are on the status", shown)
        page = client.get("/admin/channels").text
        assert 'class="push-connecting"' in page and "Not connected (reconnecting)" in page
        assert f"Held by ventanilla clock on {socket.gethostname()[:128]}, pid {os.getpid()}" in page
        assert "HTTP 502" in page and TOKEN not in page  # the error, scrubbed of the token
        assert "Reconnects:" in page and "Last event:" in page
        # The same status on the command line.
        listed = CliRunner().invoke(app, ["channels", "list", "-w", desk.slug, "--json"])
        assert listed.exit_code == 0, listed.output
        by_slug = {item["slug"]: item for item in json.loads(listed.output)}
        push = by_slug["m-brisa"]["listener"]
        assert push["state"] == "connecting" and push["held"] and push["process"] == "ventanilla clock"
        assert push["pid"] == os.getpid() and push["reconnects"] >= 2 and "HTTP 502" in push["last_error"]
        assert TOKEN not in listed.output
        assert [item["listener"] for slug, item in by_slug.items() if slug != "m-brisa"] == [None]  # X: no push
        table = CliRunner().invoke(app, ["channels", "list", "-w", desk.slug])
        assert table.exit_code == 0 and "m-brisa push listener: connecting by ventanilla clock on" in table.output
        assert "listener's last error" in table.output and TOKEN not in table.output
    finally:
        listener.stop()
        assert listener.join(10)
    page = client.get("/admin/channels").text
    assert 'class="push-stopped"' in page and "Not listening" in page and TOKEN not in page

    with session_scope(engine) as s:  # a holder that died without letting go
        s.execute(update(ChannelListenerState).where(ChannelListenerState.channel_id == channel_id)
                  .values(holder="gone", host="old-host", pid=7, heartbeat_at=utcnow() - timedelta(hours=1)))
    page = client.get("/admin/channels").text
    assert 'class="push-stopped"' in page and "Last heartbeat from old-host, pid 7" in page

    client.headers["Accept-Language"] = "es"
    assert "Escucha push" in client.get("/admin/channels").text



def test_migration_0014_adds_and_removes_the_listener_table(scratch_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from ventanilla.db import dispose_engines, get_engine
    from ventanilla.migrate import alembic_config, upgrade

    upgrade(scratch_url, "0013")
    assert "channel_listener" not in inspect(get_engine(scratch_url)).get_table_names()
    upgrade(scratch_url)
    dispose_engines()
    columns = {c["name"] for c in inspect(get_engine(scratch_url)).get_columns("channel_listener")}
    assert {"channel_id", "holder", "host", "pid", "process", "since", "heartbeat_at", "listening",
            "last_event_at", "reconnects", "last_error"} == columns
    dispose_engines()
    command.downgrade(alembic_config(scratch_url), "0013")
    dispose_engines()
    assert "channel_listener" not in inspect(get_engine(scratch_url)).get_table_names()
