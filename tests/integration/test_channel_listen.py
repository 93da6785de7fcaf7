"""Push listening: a Mastodon stream or IMAP IDLE wakes the channel's sync, which stays the
only reader (cursor, lease, dedup). Waits are bounded polls of the database, not timings."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from tests.conftest import Desk, free_port
from tests.connectors_sim.mailserver import DOVECOT, MAIL_PASSWORD, MAIL_USER, Dovecot
from tests.connectors_sim.mastodon import TOKEN, MastodonSim
from tests.connectors_sim.mastodon_streaming import MastodonStreamingSim
from ventanilla.cli import app
from ventanilla.db import session_scope, utcnow
from ventanilla.ingest.channels import create_channel
from ventanilla.ingest.connectors.base import AuthError, ConnectorError, RateLimited
from ventanilla.ingest.listen import ChannelListener, Listeners, wants_push
from ventanilla.ingest.models import Channel, Post
from ventanilla.ingest.sync import Scheduler, enable_polling, sync_channel
from ventanilla.ingest.sync_models import ChannelSync

WAIT = 20.0  # the longest any bounded wait below may take; normally well under a second
FAST = {"reconnect_base": 0.05, "reconnect_cap": 0.5, "busy_retry": 0.05}
runner = CliRunner()


def wait_for(what: str, check: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.02)



def add_mastodon(engine: Engine, desk: Desk, sim: MastodonSim, slug: str = "m-brisa", token: str = TOKEN,
                 **settings: object) -> int:
    with session_scope(engine) as s:
        channel = create_channel(s, workspace_id=desk.workspace_id, slug=slug, name="Mastodon", network="mastodon",
                                 account="@aerolinea", secrets_={"access_token": token},
                                 settings={"base_url": sim.server.base_url, "hashtags": ["equipaje"],
                                           "page_size": 5, **settings})
        enable_polling(s, channel, poll_seconds=300)
        return channel.id


def stored(engine: Engine, channel_id: int) -> list[str]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Post.external_id).where(Post.channel_id == channel_id)))


def has(engine: Engine, channel_id: int, external_id: str) -> Callable[[], bool]:
    return lambda: external_id in stored(engine, channel_id)


def listening(listener: ChannelListener | None, connects: int = 1) -> Callable[[], bool]:
    # Connected, and the catch-up sync asked for on connecting has run.
    return lambda: (listener is not None and listener.connects >= connects and listener.syncs >= 1
                    and listener.settled)


def no_listener_threads() -> bool:
    return not any(t.name.startswith("listen-") and t.is_alive() for t in threading.enumerate())


def test_a_mention_pushed_on_the_stream_is_stored_at_once(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    channel_id = add_mastodon(engine, desk, sim)
    listeners = Listeners(engine, workspace_id=desk.workspace_id, **FAST)
    try:
        assert listeners.refresh() == ["m-brisa"]
        listener = listeners.get(channel_id)
        assert listener is not None
        wait_for("the stream is open and caught up", listening(listener, 2))  # notifications + #equipaje
        assert streaming.wait_for_connections(2)
        assert {p.split("?")[0] for p in streaming.requests} == {
            "/api/v1/streaming/user/notification", "/api/v1/streaming/hashtag"}
        syncs = listener.syncs

        mention = sim.add_mention("@aerolinea mi maleta no llegó a Bilbao")
        wait_for("the pushed mention is stored", has(engine, channel_id, mention["status"]["id"]))
        assert ("notification", mention) in streaming.sent
        wait_for("the woken sync ends", lambda: listener.syncs > syncs and listener.settled)
        tagged = sim.add_tagged("equipaje", "#equipaje perdido en Madrid")
        wait_for("the pushed hashtag status is stored", has(engine, channel_id, tagged["id"]))
        wait_for("the woken sync ends", lambda: listener.settled)
        # The stream rang; the poller's path read it: the cursor moved with it.
        with session_scope(engine) as s:
            state = s.scalar(select(ChannelSync).where(ChannelSync.channel_id == channel_id))
            assert state is not None and mention["id"] in (state.cursor or "") and state.lease_owner is None
    finally:
        assert listeners.close(timeout=10)
    assert no_listener_threads()
    wait_for("the server sees the streams closed", lambda: streaming.open_streams == 0)


def test_a_dropped_stream_reconnects_and_nothing_sent_meanwhile_is_missed(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    channel_id = add_mastodon(engine, desk, sim, hashtags=[])
    listeners = Listeners(engine, channel_ids=[channel_id], **FAST)
    try:
        listeners.refresh()
        listener = listeners.get(channel_id)
        wait_for("the stream is open", listening(listener, 1))
        assert listener is not None

        streaming.refuse(503, times=2)  # the first reconnects are refused: backoff, then in
        assert streaming.drop() == 1
        lost = sim.add_mention("escrito mientras el stream estaba caído", push=False)
        wait_for("the stream is open again", lambda: streaming.connections >= 2 and listener.connects >= 2)
        assert listener.drops >= 3  # the drop and two refusals
        wait_for("the mention from the outage is read by the catch-up sync",
                 has(engine, channel_id, lost["status"]["id"]))

        after = sim.add_mention("@aerolinea y ahora tampoco aparece")
        wait_for("the next pushed mention is stored", has(engine, channel_id, after["status"]["id"]))
        ids = stored(engine, channel_id)
        assert len(ids) == len(set(ids))
    finally:
        assert listeners.close(timeout=10)


def test_pushes_and_a_concurrent_poller_store_each_mention_once(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, _ = masto
    channel_id = add_mastodon(engine, desk, sim)
    listeners = Listeners(engine, channel_ids=[channel_id], **FAST)
    stop = threading.Event()
    outcomes: list[str] = []

    def poller() -> None:  # another worker polling the same channel as fast as it can
        while not stop.is_set():
            outcomes.append(sync_channel(engine, channel_id, owner="poller").status)

    thread = threading.Thread(target=poller)
    try:
        listeners.refresh()
        wait_for("the streams are open", listening(listeners.get(channel_id), 2))
        thread.start()
        expected = []
        for i in range(12):
            expected.append(sim.add_mention(f"@aerolinea queja {i}")["status"]["id"])
            if i % 3 == 0:
                expected.append(sim.add_tagged("equipaje", f"#equipaje {i}")["id"])
        for external_id in expected:
            wait_for(f"{external_id} stored", has(engine, channel_id, external_id))
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(30)
        assert listeners.close(timeout=10)
    ids = stored(engine, channel_id)
    assert sorted(ids) == sorted(set(ids)) and set(expected) <= set(ids)
    assert set(outcomes) <= {"ok", "busy"}
    with session_scope(engine) as s:
        loose = s.scalar(select(func.count()).select_from(Post).where(Post.channel_id == channel_id,
                                                                        Post.case_id.is_(None)))
        assert loose == 0  # every post was handed over once, to a case


def test_a_failing_listener_stops_neither_polling_nor_other_channels(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, _ = masto
    good = add_mastodon(engine, desk, sim)
    bad = add_mastodon(engine, desk, sim, slug="m-wrong-token", token="revoked-token", hashtags=[])
    off = add_mastodon(engine, desk, sim, slug="m-no-push", push=False)
    scheduler = Scheduler(engine, workspace_id=desk.workspace_id, listen=True, workers=2)
    scheduler.listeners.options.update(FAST)
    try:
        scheduler.tick()  # starts the listeners and the due polls
        assert scheduler.listeners.get(off) is None and scheduler.listeners.get(bad) is not None
        wait_for("the good channel listens", listening(scheduler.listeners.get(good), 2))
        broken = scheduler.listeners.get(bad)
        assert broken is not None
        wait_for("the bad token is refused on the stream", lambda: broken.drops >= 1)
        assert broken.connects == 0
        mention = sim.add_mention("@aerolinea sigue sin llegar")
        wait_for("the good channel still gets its push", has(engine, good, mention["status"]["id"]))

        def polled() -> bool:
            scheduler.tick()
            with session_scope(engine) as s:
                states = {st.channel_id: st for st in s.scalars(select(ChannelSync))}
            # Polling went on beside the listeners: the bad token is seen there too, and the
            # channel without push is polled, not listened to.
            return bool(states[bad].failures >= 1 and states[bad].last_error and states[off].last_sync_at)

        wait_for("every channel is polled", polled)
    finally:
        scheduler.close(wait=True)
    assert no_listener_threads()


def test_a_push_waits_for_the_lease_and_for_a_backoff(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, streaming = masto
    channel_id = add_mastodon(engine, desk, sim, hashtags=[])
    listeners = Listeners(engine, channel_ids=[channel_id], **FAST)
    try:
        listeners.refresh()
        listener = listeners.get(channel_id)
        wait_for("the stream is open", listening(listener, 1))
        assert listener is not None
        with session_scope(engine) as s:  # another worker holds the channel
            s.execute(update(ChannelSync).where(ChannelSync.channel_id == channel_id)
                      .values(lease_owner="elsewhere", lease_until=utcnow() + timedelta(minutes=5)))
        syncs = listener.syncs
        mention = sim.add_mention("@aerolinea ¿hay alguien?")
        wait_for("the push was received", lambda: ("notification", mention) in streaming.sent)
        assert mention["status"]["id"] not in stored(engine, channel_id)
        assert listener.syncs == syncs  # it keeps trying; it does not read beside the lease holder
        with session_scope(engine) as s:  # the other worker finishes
            s.execute(update(ChannelSync).where(ChannelSync.channel_id == channel_id)
                      .values(lease_owner=None, lease_until=None))
        wait_for("stored once the lease is free", has(engine, channel_id, mention["status"]["id"]))
    finally:
        assert listeners.close(timeout=10)


def test_reconnect_delays_grow_with_jitter_and_respect_the_network() -> None:
    listener = ChannelListener(None, 1, "x", [], reconnect_base=2.0, reconnect_cap=300.0,  # type: ignore[arg-type]
                               rng=lambda low, high: high)
    assert [listener.reconnect_delay(n, None) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert listener.reconnect_delay(20, ConnectorError("x", retryable=True)) == 300.0
    assert listener.reconnect_delay(1, RateLimited("slow down", retry_after=90)) == 90.0
    assert listener.reconnect_delay(1, AuthError("no")) == 300.0
    low = ChannelListener(None, 1, "x", [], reconnect_base=2.0, rng=lambda low, high: low)  # type: ignore[arg-type]
    assert low.reconnect_delay(3, None) == 4.0  # equal jitter: never under half the delay


def test_which_channels_want_push(engine: Engine, desk: Desk) -> None:
    def channel(network: str, **settings: object) -> Channel:
        return Channel(network=network, settings=settings)

    assert wants_push(channel("mastodon"), 300) and wants_push(channel("email"), 60)
    assert not wants_push(channel("mastodon"), 0)  # not polled: webhooks or imports only
    assert wants_push(channel("mastodon"), 0, named=True) and wants_push(channel("mastodon", push=True), 0)
    assert not wants_push(channel("mastodon", push=False), 300) and not wants_push(channel("email", push="off"), 60)
    assert not wants_push(channel("x", push=True), 300) and not wants_push(channel("mastodon", demo=True), 300)

    refused = runner.invoke(app, ["channels", "listen", "x-brisa", "-w", desk.slug])
    assert refused.exit_code == 2 and "does not push" in refused.output


def test_channels_listen_runs_the_listeners_and_stops_cleanly(
        engine: Engine, desk: Desk, masto: tuple[MastodonSim, MastodonStreamingSim]) -> None:
    sim, _ = masto
    add_mastodon(engine, desk, sim, hashtags=[])
    result = runner.invoke(app, ["channels", "listen", "m-brisa", "-w", desk.slug, "--rounds", "1",
                                 "--refresh", "0.1"])
    assert result.exit_code == 0, result.output
    assert "listening to m-brisa" in result.output and "stopped" in result.output
    assert no_listener_threads()


# -- e-mail: IMAP IDLE against a real Dovecot ------------------------------------------------


@pytest.fixture
def imap() -> Iterator[Dovecot]:
    if DOVECOT is None:
        missing = "Dovecot is not installed: apt-get install -y dovecot-imapd"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(missing)
        pytest.skip(missing)
    with Dovecot() as server:
        yield server


def mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Pérez <ana@correo.example>"
    message["To"] = MAIL_USER
    message["Subject"] = f"Reembolso {n}"
    message["Message-ID"] = f"<idle-{n}@correo.example>"
    message["Date"] = "Fri, 20 Nov 2026 10:00:00 +0000"
    message.set_content(f"Sigo esperando el reembolso número {n}.")
    return message.as_bytes()


def deliver(imap: Dovecot, *messages: bytes) -> None:
    with IMAPClient("127.0.0.1", port=imap.port, ssl=False) as client:
        client.login(MAIL_USER, MAIL_PASSWORD)
        for message in messages:
            client.append("INBOX", message)


def test_mail_appended_to_the_mailbox_is_stored_through_the_idle_wake_up(
        engine: Engine, desk: Desk, imap: Dovecot) -> None:
    with session_scope(engine) as s:
        channel = create_channel(s, workspace_id=desk.workspace_id, slug="correo", name="Correo", network="email",
                                 is_public=False, secrets_={"username": MAIL_USER, "password": MAIL_PASSWORD},
                                 settings={"imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
                                           "smtp_host": "127.0.0.1", "smtp_port": free_port(),
                                           "smtp_security": "none", "from_address": MAIL_USER})
        enable_polling(s, channel, poll_seconds=300)
        channel_id = channel.id
    deliver(imap, mail(1))
    listeners = Listeners(engine, workspace_id=desk.workspace_id, **FAST)
    try:
        assert listeners.refresh() == ["correo"]
        listener = listeners.get(channel_id)
        wait_for("IDLE is running and caught up", listening(listener, 1))
        assert listener is not None
        assert "idle-1@correo.example" in stored(engine, channel_id)  # the catch-up sync read it
        syncs = listener.syncs

        deliver(imap, mail(2))
        wait_for("the mail is stored via IDLE", has(engine, channel_id, "idle-2@correo.example"))
        wait_for("the woken sync ends", lambda: listener.syncs > syncs and listener.settled)
        assert listener.connects == 1  # woken on the same IDLE session
        deliver(imap, mail(3), mail(4))
        wait_for("more mail on the same session", has(engine, channel_id, "idle-4@correo.example"))
        ids = stored(engine, channel_id)
        assert len(ids) == len(set(ids)) == 4
    finally:
        assert listeners.close(timeout=10)
    assert no_listener_threads()
