"""Push listening: networks that push (Mastodon streaming, IMAP IDLE) wake a channel's sync.

A push is only a **wake-up signal**. When a stream says "new mention" or the mailbox says
"new mail", the channel is synced through ``ingest.sync.sync_channel`` — the same lease,
cursor, dedup and pipeline hand-over as polling — so what is stored, and in which order, is
decided in one place: nothing is read from the push itself, and a push that is lost (a
dropped connection, a restart) costs only latency, never a post. Polling keeps running on
its interval as the safety net.

One :class:`ChannelListener` per channel runs

* one thread per push source (a Mastodon SSE stream, an IMAP IDLE session). It blocks on
  the network with no database session open; when it connects it asks for a catch-up sync
  (what arrived while it was not connected), and when the connection drops it reconnects
  after an exponential backoff with jitter (reset once a connection opens again);
* one sync thread that waits for wake-ups, coalesces them (ten mentions during one sync cost
  one more sync), and runs ``sync_channel`` under a lease owner of its own. If another
  worker holds the channel's lease it tries again shortly (that worker may have read the
  network just before the mention arrived); if the channel is backing off (rate limit,
  failures) it waits until the backoff ends.

:class:`Listeners` starts a listener for every push-capable channel (network in
``PUSH_NETWORKS``; setting ``push`` true, or unset on a polled channel), restarts it when the
channel's settings or secrets change and stops it when the channel stops wanting push. A
listener that fails is logged and retried; it never stops polling or another channel.
``ventanilla channels listen`` runs them in the foreground; ``Scheduler(listen=True)`` (the
``channels sync --loop`` command) and the in-process clock run them beside polling.

Each channel is listened to by one process only, whichever starts first: a listener holds
the channel's lease (``ingest.listener_lease``: the ``channel_listener`` row, taken by a
compare-and-set UPDATE, kept by a heartbeat, taken over when the heartbeat goes stale) and
writes its status there for the channels page: listening or not, where, since when, last
event, reconnects, last error (scrubbed).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ventanilla.db import utcnow
from ventanilla.ingest.connectors.base import AuthError, Connector, RateLimited
from ventanilla.ingest.listener_lease import HEARTBEAT_SECONDS, ListenerLease, ListenerStatus
from ventanilla.ingest.models import Channel
from ventanilla.ingest.sync import (
    ChannelCredentials,
    SessionSource,
    SyncOutcome,
    _factory,
    _fingerprint,
    _reader,
    _scope,
    backoff_seconds,
    connector_for,
    default_owner,
    describe_error,
    scrub,
    stored_secrets,
    sync_channel,
    sync_state,
)
from ventanilla.ingest.sync_models import ChannelSync

log = logging.getLogger(__name__)

PUSH_NETWORKS = ("mastodon", "email")
RECONNECT_BASE = 2.0  # seconds before the first reconnect (jittered: between half and all)
RECONNECT_CAP = 300.0  # longest wait between reconnects, and after refused credentials
BUSY_RETRY = 2.0  # seconds between tries while another worker holds the channel's lease
BACKOFF_RECHECK = 30.0  # a channel backing off is looked at again this often
REFRESH_SECONDS = 60.0  # how often Listeners.maybe_refresh looks for new or changed channels
IDLE_LIMIT = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
STATUS_GAP = 1.0  # least seconds between two status writes of one listener (events come in bursts)


class NoPush(Exception):
    """The source cannot push here (an IMAP server without IDLE): poll only, don't retry."""


class PushSource(Protocol):
    """Something that blocks on a network connection and says when there is news."""

    name: str

    def listen(self, wake: Callable[[], None], opened: Callable[[], None]) -> None:
        """Block until the connection ends; ``opened()`` once listening, ``wake()`` on news."""
        ...

    def interrupt(self) -> None:
        """From another thread: make ``listen`` return soon, for good."""
        ...


# -- e-mail ----------------------------------------------------------------------------------


class MailboxIdle:
    """IMAP IDLE on the channel's mailbox, in one long session.

    ``EmailConnector.wait_for_mail`` opens a connection per wait, so mail that lands between a
    sync and the next IDLE would wait for the next poll. Here one logged-in session stays in
    IDLE (re-issued every 25 minutes, RFC 2177) and the catch-up sync is asked for only once
    IDLE is running: mail older than that is read by the catch-up sync, mail newer raises
    ``EXISTS`` on this session. A server without IDLE raises :class:`NoPush`.
    """

    def __init__(self, connector: Any, *, idle_limit: float = IDLE_LIMIT) -> None:
        self.connector = connector
        self.name = f"IMAP IDLE {connector.mailbox}"
        self.idle_limit = idle_limit
        self._lock = threading.Lock()
        self._stopped = False
        self._client: Any = None

    def listen(self, wake: Callable[[], None], opened: Callable[[], None]) -> None:
        """Stay in IDLE until interrupted or the connection drops; wake on new mail."""
        with self.connector._imap() as client:  # logs in; maps IMAP errors to ConnectorError
            with self._lock:
                if self._stopped:
                    return
                self._client = client
            try:
                if b"IDLE" not in client.capabilities():
                    raise NoPush("the IMAP server does not offer IDLE")
                client.select_folder(self.connector.mailbox, readonly=True)
                first = True
                while not self._stopped:
                    client.idle()
                    if first:
                        first = False
                        opened()
                    self._idle(client, wake)
                    if not self._stopped:
                        client.idle_done()
            finally:
                with self._lock:
                    self._client = None

    def _idle(self, client: Any, wake: Callable[[], None]) -> None:
        deadline = time.monotonic() + self.idle_limit
        while not self._stopped:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            responses = client.idle_check(timeout=left)
            if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                wake()

    def interrupt(self) -> None:
        """Shut the IDLE session's socket down, so ``listen`` returns at once."""
        with self._lock:
            self._stopped = True
            client = self._client
        if client is not None:
            with suppress(OSError, AttributeError):
                client.socket().shutdown(socket.SHUT_RDWR)


def sources_for(connector: Connector) -> list[PushSource]:
    """The push sources a connector offers (none: the channel is polled only)."""
    make = getattr(connector, "push_sources", None)
    if callable(make):
        return list(make())
    if getattr(connector, "network", None) == "email" and hasattr(connector, "_imap"):
        return [MailboxIdle(connector)]
    return []


def wants_push(channel: Channel, poll_seconds: int, *, named: bool = False) -> bool:
    """Whether ``channel`` should be listened to.

    The ``push`` setting decides when given; unset, push is on for polled channels of a
    push-capable network (``named``: a channel asked for by name, polled or not).
    """
    if channel.network not in PUSH_NETWORKS:
        return False
    settings = channel.settings or {}
    if settings.get("demo"):
        return False
    value = settings.get("push")
    if value is None or value == "":
        return named or poll_seconds > 0
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


def push_channels(session: Session, *, workspace_id: int | None = None,
                  channel_ids: Iterable[int] | None = None) -> list[Channel]:
    """The channels to listen to (of a workspace, or among ``channel_ids``)."""
    stmt = (select(Channel, ChannelSync.poll_seconds)
            .outerjoin(ChannelSync, ChannelSync.channel_id == Channel.id)
            .where(Channel.network.in_(PUSH_NETWORKS)).order_by(Channel.id))
    if workspace_id is not None:
        stmt = stmt.where(Channel.workspace_id == workspace_id)
    named = channel_ids is not None
    if channel_ids is not None:
        stmt = stmt.where(Channel.id.in_(list(channel_ids)))
    return [channel for channel, poll in session.execute(stmt).all()
            if wants_push(channel, poll or 0, named=named)]


# -- one channel ---------------------------------------------------------------------------


class ChannelListener:
    """A channel's push sources, each on a thread, waking one sync thread."""

    def __init__(self, source: SessionSource, channel_id: int, slug: str, sources: list[PushSource], *,
                 secrets_: Mapping[str, Any] | None = None, reconnect_base: float = RECONNECT_BASE,
                 reconnect_cap: float = RECONNECT_CAP, busy_retry: float = BUSY_RETRY,
                 rng: Callable[[float, float], float] = random.uniform, lease: ListenerLease | None = None,
                 status_gap: float = STATUS_GAP) -> None:
        self.factory: sessionmaker[Session] = _factory(source)
        self.channel_id = channel_id
        self.slug = slug
        self.sources = sources
        self.reconnect_base = reconnect_base
        self.reconnect_cap = reconnect_cap
        self.busy_retry = busy_retry
        self._secrets = dict(secrets_ or {})
        self._rng = rng
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count_lock = threading.Lock()
        self.connects = 0  # connections opened, all sources
        self.drops = 0  # connections lost or refused, all sources
        self.syncs = 0  # syncs done (not counting "busy" tries)
        self.last_outcome: SyncOutcome | None = None
        self._syncing = False
        # The lease on the channel and the status written with its heartbeat (None: not kept).
        self.lease = lease
        self.status = ListenerStatus()
        self.status_gap = status_gap
        self.lost = False  # another process took the channel (our heartbeat went stale)
        self._dirty = threading.Event()
        self._open = 0  # sources connected now

    # -- control ---------------------------------------------------------------------------

    def start(self) -> ChannelListener:
        """Start the sync thread and one thread per source."""
        threads = [threading.Thread(target=self._sync_loop, name=f"listen-{self.slug}-sync", daemon=True)]
        threads += [threading.Thread(target=self._source_loop, args=(source,), daemon=True,
                                     name=f"listen-{self.slug}-{source.name}") for source in self.sources]
        if self.lease is not None:
            threads.append(threading.Thread(target=self._status_loop, name=f"listen-{self.slug}-status",
                                            daemon=True))
        self._threads = threads
        for thread in threads:
            thread.start()
        return self

    def wake(self) -> None:
        """Ask for a sync (coalesced with any already asked for)."""
        self._wanted.set()

    def stop(self) -> None:
        """Stop listening: interrupt the sources' blocking reads; a running sync finishes."""
        self._stop.set()
        self._wanted.set()
        self._dirty.set()
        for source in self.sources:
            try:
                source.interrupt()
            except Exception:  # a source that cannot be interrupted ends with its timeout
                log.warning("channel %s: interrupting %s failed", self.slug, source.name, exc_info=True)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the threads to end (at most ``timeout`` s in all); True when they have."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.alive

    @property
    def settled(self) -> bool:
        """No sync asked for and none running (every wake-up so far has been served)."""
        return not self._wanted.is_set() and not self._syncing

    @property
    def alive(self) -> bool:
        """Whether any of the listener's threads still runs."""
        return any(t.is_alive() for t in self._threads)

    def _count(self, name: str) -> None:
        with self._count_lock:
            setattr(self, name, getattr(self, name) + 1)

    def _report(self, **changes: object) -> None:
        # Sources change the status in memory; the status thread writes it (coalesced).
        with self._count_lock:
            for name, value in changes.items():
                setattr(self.status, name, value)
        self._dirty.set()

    def _pushed(self) -> None:
        """A source's news: remembered for the status, then a sync is asked for."""
        self._report(last_event_at=utcnow())
        self.wake()

    # -- lease and status ------------------------------------------------------------------

    def _snapshot(self) -> ListenerStatus:
        with self._count_lock:
            return dataclasses.replace(self.status)

    def _status_loop(self) -> None:
        lease = self.lease
        assert lease is not None
        self._dirty.set()  # the first write says where and since when, at once
        try:
            while not self._stop.is_set():
                self._dirty.wait(lease.heartbeat_seconds)
                if self._stop.is_set():
                    break
                self._dirty.clear()
                try:
                    kept = lease.beat(self._snapshot())
                except Exception as exc:  # the database failing: the next heartbeat tries again
                    log.error("channel %s: listener heartbeat failed: %s", self.slug, describe_error(exc))
                    kept = True
                if not kept:
                    if not self._stop.is_set():  # (when stopping, our own release got there first)
                        log.warning("channel %s: another process took over the listener; stopping this one",
                                    self.slug)
                    self.lost = True
                    self.stop()
                    return
                self._stop.wait(self.status_gap)
        finally:
            if not self.lost:
                self.release()

    def release(self) -> None:
        """Let the channel's lease go now (with the last status); errors are logged only."""
        if self.lease is None:
            return
        try:
            self.lease.release(self._snapshot())
        except Exception as exc:
            log.error("channel %s: listener lease not released: %s", self.slug, describe_error(exc))

    # -- sources ---------------------------------------------------------------------------

    def _source_loop(self, source: PushSource) -> None:
        failures = 0
        while not self._stop.is_set():
            opened = False

            def on_open() -> None:
                nonlocal opened
                opened = True
                self.wake()  # catch up on what arrived while we were not connected
                self._count("connects")
                with self._count_lock:
                    self._open += 1
                self._report(listening=True)
                log.info("channel %s: %s listening", self.slug, source.name)

            error: BaseException | None = None
            try:
                source.listen(self._pushed, on_open)
            except NoPush as exc:
                log.info("channel %s: %s: %s; polling only", self.slug, source.name, exc)
                self._closed(opened, scrub(f"{source.name}: {exc}; polling only", self._secrets))
                return
            except Exception as exc:
                error = exc
            if self._stop.is_set():
                self._closed(opened)
                return
            self._count("drops")
            failures = 1 if opened else failures + 1
            delay = self.reconnect_delay(failures, error)
            reason = describe_error(error, self._secrets) if error is not None else "closed by the server"
            self._closed(opened, f"{source.name}: {reason}", reconnect=True)
            log.warning("channel %s: %s dropped (%s); reconnecting in %.1f s", self.slug, source.name,
                        reason, delay)
            self._stop.wait(delay)

    def _closed(self, opened: bool, error: str | None = None, *, reconnect: bool = False) -> None:
        with self._count_lock:
            if opened:
                self._open -= 1
            changes: dict[str, object] = {"listening": self._open > 0}
        if reconnect:
            changes["reconnects"] = self.drops
        if error is not None:
            changes["last_error"] = error
        self._report(**changes)

    def reconnect_delay(self, failures: int, error: BaseException | None) -> float:
        """Exponential backoff with jitter; what a rate limit asked for; long on refused credentials."""
        delay = backoff_seconds(failures, base=self.reconnect_base, cap=self.reconnect_cap, rng=self._rng)
        if isinstance(error, RateLimited):
            return max(delay, error.retry_after or 0.0)
        if isinstance(error, AuthError):
            return self.reconnect_cap  # rotating the credentials restarts the listener anyway
        return delay

    # -- syncing ---------------------------------------------------------------------------

    def _sync_loop(self) -> None:
        owner = f"{default_owner()}:push"  # never the poller's owner: leases keep the two apart
        while True:
            self._wanted.wait()
            if self._stop.is_set():
                return
            self._syncing = True
            self._wanted.clear()
            try:
                self._sync(owner)
            finally:
                self._syncing = False

    def _sync(self, owner: str) -> None:
        while not self._stop.is_set():
            try:
                wait = self._backoff_left()
                if wait > 0:
                    # Rate limited or failing: the push does not make us call sooner.
                    self._stop.wait(min(wait, BACKOFF_RECHECK))
                    continue
                outcome = sync_channel(self.factory, self.channel_id, owner=owner)
            except Exception as exc:  # the database failing: polling retries later
                log.error("channel %s: push sync aborted: %s", self.slug, describe_error(exc, self._secrets))
                return
            if outcome.status == "busy":
                # Another worker is syncing; it may have read the network before our news came.
                self._stop.wait(self.busy_retry)
                continue
            self.last_outcome = outcome
            self._count("syncs")
            if outcome.status == "ok" and outcome.more:
                continue  # a long round was cut: go on while we are awake
            return

    def _backoff_left(self) -> float:
        with _scope(_reader(self.factory)) as session:
            state = sync_state(session, self.channel_id)
            until = state.backoff_until if state is not None else None
        return (until - utcnow()).total_seconds() if until is not None else 0.0


# -- every channel ---------------------------------------------------------------------------


class Listeners:
    """Listeners for every push-capable channel (of a workspace, or the channels named).

        listeners = Listeners(engine)
        listeners.refresh()            # start, restart (settings or secrets changed), stop
        ...
        listeners.close()

    A channel another process listens to (its lease is held and its heartbeat fresh) is left
    to it: ``held_elsewhere`` names those, and a later refresh takes over if that process dies.
    ``process`` names this process on the channels page (default: its command).
    """

    def __init__(self, source: SessionSource, *, workspace_id: int | None = None,
                 channel_ids: Iterable[int] | None = None, refresh_seconds: float = REFRESH_SECONDS,
                 process: str | None = None, heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 **options: Any) -> None:
        self.factory = _factory(source)
        self.workspace_id = workspace_id
        self.channel_ids = None if channel_ids is None else list(channel_ids)
        self.refresh_seconds = refresh_seconds
        self.process = process
        self.heartbeat_seconds = heartbeat_seconds
        self.options = options
        self.running: dict[int, tuple[str, ChannelListener]] = {}
        self.held_elsewhere: list[str] = []
        self._refused: dict[int, str] = {}  # fingerprint whose connector could not be built
        self._refreshed_at: float | None = None

    def refresh(self) -> list[str]:
        """Bring the running listeners in line with the channels; returns the slugs listened to."""
        self._refreshed_at = time.monotonic()
        with _scope(_reader(self.factory)) as session:
            wanted = {channel.id: channel for channel in
                      push_channels(session, workspace_id=self.workspace_id, channel_ids=self.channel_ids)}
        for channel_id, (fingerprint, listener) in list(self.running.items()):
            channel = wanted.get(channel_id)
            if channel is not None and _fingerprint(channel) == fingerprint and not listener.lost:
                continue
            # Changed, no longer wanted, or taken over: stopped (not waited for); its lease is
            # let go now, so its successor below can take the channel at once.
            self.running.pop(channel_id)
            listener.stop()
            if not listener.lost:
                listener.release()
        elsewhere = []
        for channel_id, channel in wanted.items():
            if channel_id in self.running:
                continue
            fingerprint = _fingerprint(channel)
            if self._refused.get(channel_id) == fingerprint:
                continue
            started = self._start(channel, fingerprint)
            if started is None:
                elsewhere.append(channel.slug)
        self.held_elsewhere = sorted(elsewhere)
        return sorted(listener.slug for _, listener in self.running.values())

    def _start(self, channel: Channel, fingerprint: str) -> bool | None:
        """Take the channel's lease and start its listener; None when another process has it."""
        lease = ListenerLease(self.factory, channel.id, process=self.process,
                              heartbeat_seconds=self.heartbeat_seconds)
        if not lease.take():
            return None
        secrets_ = stored_secrets(channel)
        try:
            sources = sources_for(connector_for(channel, store=ChannelCredentials(self.factory, channel.id)))
        except Exception as exc:
            self._refused[channel.id] = fingerprint
            error = describe_error(exc, secrets_)
            log.warning("channel %s: cannot listen: %s", channel.slug, error)
            lease.release(ListenerStatus(last_error=error))
            return False
        if not sources:
            lease.release()
            return False
        listener = ChannelListener(self.factory, channel.id, channel.slug, sources, secrets_=secrets_, lease=lease,
                                   **self.options)
        self.running[channel.id] = (fingerprint, listener.start())
        return True

    def maybe_refresh(self) -> None:
        """``refresh`` when ``refresh_seconds`` have passed; errors are logged, never raised."""
        if self._refreshed_at is not None and time.monotonic() - self._refreshed_at < self.refresh_seconds:
            return
        try:
            self.refresh()
        except Exception as exc:
            self._refreshed_at = time.monotonic()
            log.error("push listeners not refreshed: %s", describe_error(exc))

    def get(self, channel_id: int) -> ChannelListener | None:
        """The running listener of a channel."""
        entry = self.running.get(channel_id)
        return entry[1] if entry is not None else None

    def close(self, timeout: float = 10.0) -> bool:
        """Stop every listener and wait up to ``timeout`` s; True when all threads ended."""
        listeners = [listener for _, listener in self.running.values()]
        self.running.clear()
        for listener in listeners:
            listener.stop()
        deadline = time.monotonic() + timeout
        return all(listener.join(max(0.0, deadline - time.monotonic())) for listener in listeners)
