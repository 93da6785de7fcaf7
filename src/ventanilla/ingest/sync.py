"""Polling channels: build their connector, read pages, keep cursor, schedule and health.

The order of one page is what makes a crash harmless: the posts are accepted and committed
first, the cursor is saved after, and the posts are handed to the pipeline last. A crash
between the first two re-reads one page on restart, and ``accept`` dedups it by network +
external id; the posts it already stored but never handed over are handed over then.

A lease (``channel_sync.lease_owner``/``lease_until``, taken by one atomic UPDATE) keeps a
channel on one worker at a time, whether the workers are threads, processes or machines.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

import httpx
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, sessionmaker

from ventanilla.audit.service import SYSTEM, Actor, record
from ventanilla.db import session_factory, utcnow
from ventanilla.ingest.channels import ChannelError
from ventanilla.ingest.connectors.base import AuthError, Connector, ConnectorError, RateLimited
from ventanilla.ingest.models import Channel, Post
from ventanilla.ingest.service import accept
from ventanilla.ingest.sync_models import DEFAULT_POLL_SECONDS, ChannelSync
from ventanilla.vault import VaultError, seal, unseal
from ventanilla.workers.pipeline import hand_over
from ventanilla.workers.queue import task

log = logging.getLogger(__name__)

SYNC_TASK = "channels.sync"
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0
MAX_FAILURES = 5
LEASE_SECONDS = 300
MAX_PAGES = 50
MAX_SECONDS = 120.0  # one channel's turn in a round; well inside its lease
WORKERS = 4  # channels synced at once by one scheduler round
MAX_ERROR_CHARS = 500
HIDDEN = "•••"

# network -> "module:Class"; imported on use so a missing optional library breaks one network only.
CONNECTORS: dict[str, str] = {
    "x": "ventanilla.ingest.connectors.x:XConnector",
    "facebook": "ventanilla.ingest.connectors.facebook:FacebookConnector",
    "instagram": "ventanilla.ingest.connectors.instagram:InstagramConnector",
    "youtube": "ventanilla.ingest.connectors.youtube:YouTubeConnector",
    "rss": "ventanilla.ingest.connectors.rss:RssConnector",
    "mastodon": "ventanilla.ingest.connectors.mastodon:MastodonConnector",
    "bluesky": "ventanilla.ingest.connectors.bluesky:BlueskyConnector",
    "reddit": "ventanilla.ingest.connectors.reddit:RedditConnector",
    "email": "ventanilla.ingest.connectors.email:EmailConnector",
    "sim": "ventanilla.ingest.connectors.sim:SimConnector",  # the local simulated network (tests, demo)
}
# Secrets the channel keeps for itself, not for the network.
OWN_SECRETS = ("webhook_secret",)

SessionSource = Engine | sessionmaker[Session]


class LeaseLost(RuntimeError):
    """Another worker holds the channel now (our lease ran out): stop without touching it."""


@dataclass(slots=True)
class SyncOutcome:
    """What one sync of one channel did.

    ``status``: ``ok``, ``busy`` (another worker holds it), ``rate_limited``, ``auth_failed``,
    ``failed``, or ``lease_lost``. ``more`` is true when the page limit stopped a long round.
    """

    channel_id: int
    slug: str = ""
    status: str = "ok"
    pages: int = 0
    new: int = 0
    duplicates: int = 0
    skipped: int = 0
    more: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (for ``--json`` and task results)."""
        return asdict(self)


# -- connectors -------------------------------------------------------------------------------


def pollable(network: str) -> bool:
    """Whether ventanilla has a connector that can poll ``network``."""
    return network in CONNECTORS


def _connector_class(network: str) -> Callable[..., Connector]:
    target = CONNECTORS.get(network)
    if target is None:
        raise ChannelError(f"no connector for network {network!r}; it can only receive webhooks or imports")
    module, name = target.split(":")
    cls: Callable[..., Connector] = getattr(import_module(module), name)
    return cls


def connector_for(channel: Channel, *, store: ChannelCredentials | None = None) -> Connector:
    """Build the channel's connector from its network, settings and decrypted secrets.

    A ``base_url`` in the channel's settings points the connector elsewhere (a simulator in
    tests, a self-hosted instance); the channel's own webhook secret is not passed on.
    Connectors that renew their own tokens (``credential_store``) get ``store``, by default
    one on the database the channel was loaded from, so renewed tokens are kept encrypted.
    """
    settings = dict(channel.settings or {})
    if settings.get("demo"):
        from ventanilla.ingest.connectors.demo import DemoConnector

        return DemoConnector(channel.network, settings)
    base_url = settings.pop("base_url", None)
    secrets_ = unseal(channel.secrets_encrypted)
    credentials = {k: v for k, v in secrets_.items() if k not in OWN_SECRETS}
    connector = _connector_class(channel.network)(settings, credentials, base_url=base_url)
    if hasattr(connector, "credential_store"):
        if store is None:
            session = object_session(channel)
            bind = session.get_bind() if session is not None else None
            engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
            if engine is not None:
                store = ChannelCredentials(session_factory(engine), channel.id)
        if store is not None:
            store.connector = connector
        connector.credential_store = store
    return connector


class ChannelCredentials:
    """A channel's encrypted secrets as a connector's ``CredentialStore``.

    ``save`` merges renewed tokens into the stored secrets in one short transaction of its own
    (the row is locked on PostgreSQL so two workers renewing at once do not lose a key),
    re-encrypts them and writes ``channel.credentials_refreshed`` to the audit trail with the
    key names only. The cached connector that renewed them is kept (its fingerprint follows).
    """

    def __init__(self, factory: sessionmaker[Session], channel_id: int) -> None:
        self.factory = factory
        self.channel_id = channel_id
        self.connector: Connector | None = None

    def load(self) -> dict[str, Any]:
        """The channel's credentials as stored now (without its own webhook secret)."""
        with _scope(self.factory) as session:
            channel = session.get(Channel, self.channel_id)
            stored = unseal(channel.secrets_encrypted) if channel is not None else {}
        return {k: v for k, v in stored.items() if k not in OWN_SECRETS}

    def save(self, changed: Mapping[str, str]) -> None:
        """Merge ``changed`` into the stored secrets, re-encrypted; audit the key names."""
        if not changed:
            return
        with _scope(self.factory) as session:
            channel = session.get(Channel, self.channel_id, with_for_update=True)
            if channel is None:
                return
            current = unseal(channel.secrets_encrypted)
            keys = sorted(k for k in changed if current.get(k) != changed[k])
            current.update(changed)
            channel.secrets_encrypted = seal(current)
            if any(k != "expires_at" for k in keys):
                record(session, SYSTEM, "channel.credentials_refreshed", target_type="channel",
                       target_id=channel.id, workspace_id=channel.workspace_id, after={"keys": keys})
            fingerprint = _fingerprint(channel)
        with _cache_lock:
            cached = _connectors.get(self.channel_id)
            if cached is not None and self.connector is not None and cached[1] is self.connector:
                _connectors[self.channel_id] = (fingerprint, self.connector)
        log.info("channel %d: renewed credentials stored (%s)", self.channel_id, ", ".join(sorted(changed)))


_cache_lock = threading.Lock()
_connectors: dict[int, tuple[str, Connector]] = {}


def _fingerprint(channel: Channel) -> str:
    settings = json.dumps(channel.settings or {}, sort_keys=True, default=str)
    return hashlib.sha256(f"{channel.network}\n{settings}\n{channel.secrets_encrypted}".encode()).hexdigest()


def _cached_connector(channel: Channel, factory: sessionmaker[Session] | None = None) -> Connector:
    # One connector per channel and process: keeps HTTP connections and logins (Bluesky allows
    # few sessions) across polls; a change of settings or secrets builds a new one.
    fingerprint = _fingerprint(channel)
    with _cache_lock:
        cached = _connectors.get(channel.id)
        if cached is not None and cached[0] == fingerprint:
            store = getattr(cached[1], "credential_store", None)
            if factory is not None and isinstance(store, ChannelCredentials):
                store.factory = factory  # renewed tokens go to the database this sync uses
            return cached[1]
    store = ChannelCredentials(factory, channel.id) if factory is not None else None
    connector = connector_for(channel, store=store)
    with _cache_lock:
        _connectors[channel.id] = (fingerprint, connector)
    return connector


def check_connection(channel: Channel) -> str:
    """Check the channel's credentials with the network; return the account name it knows.

    Raises ``ConnectorError`` (``AuthError`` for refused credentials), ``ChannelError`` when the
    network has no connector, or ``VaultError`` when the secrets cannot be decrypted.
    """
    connector = connector_for(channel)
    try:
        return connector.test()
    finally:
        _close(connector)


def _close(connector: Connector) -> None:
    # A one-off connector (a connection test) owns its HTTP client; don't leave the pool open.
    http = getattr(connector, "http", None)
    if isinstance(http, httpx.Client):
        http.close()


# -- keeping secrets out of messages -------------------------------------------------------------

_SECRET_PARAMS = re.compile(
    r"(?i)((?:access_|refresh_|bearer_|api_|app_)?(?:token|key|secret|password|signature|sig)"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s&\"',}]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic|oauth)\s+[A-Za-z0-9._~+/=-]{6,}")


def scrub(message: str, secrets_: Mapping[str, Any] | None = None) -> str:
    """``message`` without credentials: known secret values, token-like parameters, auth headers."""
    text = message
    for value in (secrets_ or {}).values():
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, HIDDEN)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {HIDDEN}", text)
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + HIDDEN, text)
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS - 1] + "…"
    return text


def stored_secrets(channel: Channel) -> dict[str, Any]:
    """The channel's decrypted secrets, for scrubbing messages (empty when unreadable)."""
    try:
        return unseal(channel.secrets_encrypted)
    except VaultError:
        return {}


def describe_error(exc: BaseException, secrets_: Mapping[str, Any] | None = None) -> str:
    """A readable, credential-free one-line description of a sync error."""
    if isinstance(exc, AuthError):
        prefix = "credentials refused (rotate them)"
    elif isinstance(exc, RateLimited):
        prefix = f"rate limited for {int(exc.retry_after or 0)} s"
    elif isinstance(exc, ConnectorError):
        prefix = "network error" if exc.retryable else "request refused"
    elif isinstance(exc, VaultError):
        prefix = "secrets unreadable"
    elif isinstance(exc, ChannelError | ImportError):
        prefix = "channel cannot be polled"
    else:
        prefix = f"internal error ({type(exc).__name__})"
    return scrub(f"{prefix}: {exc}", secrets_)


# -- state --------------------------------------------------------------------------------------


_factories_lock = threading.Lock()
_writers: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()
_readers: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()


def _factory(source: SessionSource) -> sessionmaker[Session]:
    # One per engine: a session maker is a class of its own, costly to make on every sync.
    if not isinstance(source, Engine):
        return source
    with _factories_lock:
        factory = _writers.get(source)
        if factory is None:
            factory = _writers[source] = session_factory(source)
        return factory


def _reader(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A session maker on the same database for transactions that only read.

    On SQLite every other transaction queues for the one write lock up front (``BEGIN
    IMMEDIATE``); a read does not need it, and reads that queued there made the healthy
    channels wait behind a failing one's bookkeeping.
    """
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        return factory
    with _factories_lock:
        reader = _readers.get(bind)
        if reader is None:
            reader = _readers[bind] = session_factory(bind, readonly=True)
        return reader


@contextmanager
def _scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def sync_state(session: Session, channel_id: int) -> ChannelSync | None:
    """The channel's polling state (None: the channel is not polled)."""
    return session.scalar(select(ChannelSync).where(ChannelSync.channel_id == channel_id))


def enable_polling(session: Session, channel: Channel, *, poll_seconds: int = DEFAULT_POLL_SECONDS,
                   actor: Actor = SYSTEM) -> ChannelSync:
    """Poll ``channel`` every ``poll_seconds`` (0 stops polling); the first poll is due now."""
    if poll_seconds < 0:
        raise ChannelError("poll interval cannot be negative")
    if poll_seconds and not pollable(channel.network):
        raise ChannelError(f"network {channel.network!r} cannot be polled; use its webhook")
    state = sync_state(session, channel.id)
    before = None if state is None else {"poll_seconds": state.poll_seconds}
    if state is None:
        state = ChannelSync(channel_id=channel.id, poll_seconds=poll_seconds, failures=0, healthy=True,
                            next_sync_at=utcnow())
        session.add(state)
    else:
        state.poll_seconds = poll_seconds
        state.next_sync_at = utcnow()
    session.flush()
    record(session, actor, "channel.polling_set", target_type="channel", target_id=channel.id,
           workspace_id=channel.workspace_id, before=before, after={"poll_seconds": poll_seconds})
    return state


def _ensure_state(factory: sessionmaker[Session], channel_id: int) -> tuple[str, bool]:
    """Make sure the channel has a sync row; return its slug and whether the row was just made."""
    with _scope(_reader(factory)) as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise ChannelError(f"no channel {channel_id}")
        slug = channel.slug
        if sync_state(session, channel_id) is not None:
            return slug, False
    try:
        with _scope(factory) as session:
            session.add(ChannelSync(channel_id=channel_id, poll_seconds=0, failures=0, healthy=True))
    except IntegrityError:
        pass  # another worker created it at the same moment
    return slug, True


def _take_lease(factory: sessionmaker[Session], channel_id: int, owner: str, seconds: float) -> bool:
    now = utcnow()
    with _scope(factory) as session:
        result = session.execute(
            update(ChannelSync)
            .where(ChannelSync.channel_id == channel_id,
                   or_(ChannelSync.lease_until.is_(None), ChannelSync.lease_until < now,
                       ChannelSync.lease_owner == owner))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _release_lease(factory: sessionmaker[Session], channel_id: int, owner: str) -> None:
    with _scope(factory) as session:
        session.execute(update(ChannelSync)
                        .where(ChannelSync.channel_id == channel_id, ChannelSync.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))


def save_cursor(factory: sessionmaker[Session], channel_id: int, owner: str, cursor: str | None,
                lease_seconds: float = LEASE_SECONDS) -> None:
    """Store the cursor after its posts were committed, and extend our lease.

    Raises ``LeaseLost`` when the lease is no longer ours: the cursor is then left alone.
    """
    now = utcnow()
    with _scope(factory) as session:
        result = session.execute(
            update(ChannelSync)
            .where(ChannelSync.channel_id == channel_id, ChannelSync.lease_owner == owner)
            .values(cursor=cursor, lease_until=now + timedelta(seconds=lease_seconds))
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise LeaseLost(f"channel {channel_id}: lease lost; cursor not saved")


def backoff_seconds(failures: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP,
                    rng: Callable[[float, float], float] = random.uniform) -> float:
    """How long to wait after ``failures`` consecutive failures: doubling, capped, jittered.

    Half the delay is fixed and half random ("equal jitter"), so many channels failing together
    do not all retry in the same second, yet none retries much sooner than planned.
    """
    delay = min(cap, base * 2 ** max(0, failures - 1))
    return delay / 2 + rng(0, delay / 2)


def _finish(factory: sessionmaker[Session], channel_id: int, outcome: SyncOutcome,
            exc: BaseException | None, owner: str) -> None:
    """Write the result of a sync (schedule, health, error) and free our lease, in one transaction.

    One short write per sync, whatever happened: a failing channel retried every round costs
    the others one turn of the write lock, and an audit event only when its health changes.
    """
    now = utcnow()
    with _scope(factory) as session:
        state = sync_state(session, channel_id)
        if state is None:
            return
        if state.lease_owner == owner:
            state.lease_owner, state.lease_until = None, None
        was_healthy, previous_error = state.healthy, state.last_error
        interval = timedelta(seconds=state.poll_seconds or DEFAULT_POLL_SECONDS)
        if exc is None:
            state.failures = 0
            state.healthy = True
            state.last_error = None
            state.backoff_until = None
            state.last_sync_at = now
            state.next_sync_at = now if outcome.more else now + interval
        elif isinstance(exc, RateLimited):
            # The network asked us to wait: not a failure of the channel.
            state.backoff_until = now + timedelta(seconds=max(1.0, exc.retry_after or BACKOFF_BASE))
            state.next_sync_at = state.backoff_until
            state.last_error = outcome.error
        else:
            state.failures += 1
            state.last_error = outcome.error
            if isinstance(exc, AuthError | VaultError | ChannelError | ImportError):
                # Retrying will not help until the credentials are rotated (which resets this).
                state.healthy = False
                wait = BACKOFF_CAP
            else:
                wait = backoff_seconds(state.failures)
                if state.failures >= MAX_FAILURES or (isinstance(exc, ConnectorError) and not exc.retryable):
                    state.healthy = False
            state.backoff_until = now + timedelta(seconds=wait)
            state.next_sync_at = state.backoff_until
        if was_healthy == state.healthy:
            return
        channel = session.get(Channel, channel_id)  # only for the audit event of the change
        if channel is None:
            return
        if was_healthy and not state.healthy:
            record(session, SYSTEM, "channel.unhealthy", target_type="channel", target_id=channel.id,
                   workspace_id=channel.workspace_id,
                   after={"failures": state.failures, "error": state.last_error})
        elif state.healthy and not was_healthy:
            record(session, SYSTEM, "channel.recovered", target_type="channel", target_id=channel.id,
                   workspace_id=channel.workspace_id, before={"error": previous_error})


def _unplaced(session: Session, channel: Channel, external_ids: Sequence[str]) -> list[int]:
    """Ids of this page's posts that are stored but have no case yet (a crash left them)."""
    if not external_ids:
        return []
    return list(session.scalars(
        select(Post.id).where(Post.workspace_id == channel.workspace_id, Post.network == channel.network,
                              Post.external_id.in_(list(external_ids)), Post.case_id.is_(None),
                              Post.direction == "in").order_by(Post.id)))


def sync_channel(source: SessionSource, channel_id: int, *, owner: str, max_pages: int = MAX_PAGES,
                 lease_seconds: float = LEASE_SECONDS, max_seconds: float = MAX_SECONDS) -> SyncOutcome:
    """Poll one channel now: take its lease, read pages, accept, save the cursor, hand over.

    ``source`` is an engine or a session factory (each step runs in its own short transaction,
    and no transaction is open while the network is called). Returns what happened; errors are
    recorded on the channel (backoff, health, scrubbed last error), never raised, except when
    the channel does not exist. A round stops after ``max_pages`` pages or ``max_seconds``
    (checked between pages; the channel stays due), so a slow network holds a worker for a
    bounded time.
    """
    started = time.monotonic()
    factory = _factory(source)
    # The lease first: a channel that has its sync row (every one after its first sync) costs
    # one write to take and one to finish, and its reads do not queue for SQLite's write lock.
    taken = _take_lease(factory, channel_id, owner, lease_seconds)
    slug = ""
    if not taken:
        slug, created = _ensure_state(factory, channel_id)  # raises when there is no such channel
        taken = created and _take_lease(factory, channel_id, owner, lease_seconds)
    outcome = SyncOutcome(channel_id=channel_id, slug=slug)
    if not taken:
        outcome.status = "busy"
        return outcome
    secrets_: dict[str, Any] = {}
    error: BaseException | None = None
    try:
        with _scope(_reader(factory)) as session:
            row = session.execute(select(Channel, ChannelSync).join(ChannelSync, ChannelSync.channel_id == Channel.id)
                                  .where(Channel.id == channel_id)).one()
            channel: Channel | None = row[0]
            state: ChannelSync = row[1]
            assert channel is not None
            slug = outcome.slug = channel.slug
            cursor = state.cursor
            secrets_ = stored_secrets(channel)
            connector = _cached_connector(channel, factory)
        while True:
            result = connector.fetch(cursor)
            outcome.pages += 1
            for item in result.skipped:
                outcome.skipped += 1
                log.warning("channel %s: item skipped: %s", slug, scrub(item.reason, secrets_))
            with _scope(factory) as session:
                channel = session.get(Channel, channel_id)
                assert channel is not None
                accepted = accept(session, channel=channel, posts=result.posts)
                handed = accepted.new_post_ids
                if accepted.duplicates:
                    handed = _unplaced(session, channel, [p.external_id for p in result.posts])
            outcome.new += len(accepted.new_post_ids)
            outcome.duplicates += accepted.duplicates
            save_cursor(factory, channel_id, owner, result.cursor, lease_seconds)
            cursor = result.cursor
            _hand_over(slug, handed)
            if not result.more:
                break
            if outcome.pages >= max_pages or time.monotonic() - started >= max_seconds:
                outcome.more = True
                break
    except LeaseLost as exc:
        outcome.status, outcome.error = "lease_lost", str(exc)
        log.warning("channel %s: %s", slug, exc)
        return outcome
    except (KeyboardInterrupt, SystemExit):
        # Stopped by hand: free the channel now rather than when the lease runs out. (A killed
        # process frees it only then; the cursor was saved page by page, so nothing is lost.)
        _release_lease(factory, channel_id, owner)
        raise
    except Exception as exc:
        error = exc
        outcome.error = describe_error(exc, secrets_)
        outcome.status = ("rate_limited" if isinstance(exc, RateLimited)
                          else "auth_failed" if isinstance(exc, AuthError) else "failed")
        log.warning("channel %s: sync failed: %s", slug or channel_id, outcome.error)
    try:
        _finish(factory, channel_id, outcome, error, owner)
    except BaseException:
        _release_lease(factory, channel_id, owner)
        raise
    if outcome.status == "ok":
        log.info("channel %s: %d new, %d duplicate, %d skipped in %d page(s)",
                 slug, outcome.new, outcome.duplicates, outcome.skipped, outcome.pages)
    return outcome


def _hand_over(slug: str, post_ids: list[int]) -> None:
    # The posts and the cursor are safe by now; a pipeline failure is not the channel's.
    try:
        hand_over(post_ids)
    except Exception as exc:
        log.error("channel %s: handing %d post(s) to the pipeline failed: %s: %s",
                  slug, len(post_ids), type(exc).__name__, exc)


# -- scheduling ---------------------------------------------------------------------------------


def due_channels(session: Session, now: datetime | None = None, *, workspace_id: int | None = None) -> list[int]:
    """Ids of the polled channels whose turn has come (not backing off, not leased), oldest first."""
    now = now or utcnow()
    stmt = (
        select(ChannelSync.channel_id)
        .join(Channel, Channel.id == ChannelSync.channel_id)
        .where(ChannelSync.poll_seconds > 0,
               Channel.network.in_(list(CONNECTORS)),
               or_(ChannelSync.next_sync_at.is_(None), ChannelSync.next_sync_at <= now),
               or_(ChannelSync.backoff_until.is_(None), ChannelSync.backoff_until <= now),
               or_(ChannelSync.lease_until.is_(None), ChannelSync.lease_until < now))
        .order_by(ChannelSync.next_sync_at.asc().nulls_first(), ChannelSync.channel_id)
    )
    if workspace_id is not None:
        stmt = stmt.where(Channel.workspace_id == workspace_id)
    return list(session.scalars(stmt))


def default_owner() -> str:
    """This worker's name for leases: host, process and thread."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{threading.get_ident()}"


def _sync_guarded(factory: sessionmaker[Session], channel_id: int, owner: str, max_pages: int,
                  max_seconds: float) -> SyncOutcome:
    try:
        return sync_channel(factory, channel_id, owner=owner, max_pages=max_pages, max_seconds=max_seconds)
    except Exception as exc:  # the database itself failing for this channel
        log.error("channel %d: sync aborted: %s", channel_id, describe_error(exc))
        return SyncOutcome(channel_id=channel_id, status="failed", error=describe_error(exc))


def run_scheduler_once(source: SessionSource, *, owner: str | None = None, now: datetime | None = None,
                       workspace_id: int | None = None, max_pages: int = MAX_PAGES,
                       max_seconds: float = MAX_SECONDS, workers: int = WORKERS) -> list[SyncOutcome]:
    """Sync every due channel once, each on its own: one failing never stops the others.

    Up to ``workers`` channels are synced at once (threads; the work is mostly waiting on
    networks), so a network that hangs until its HTTP timeout, or a slow one using its whole
    ``max_seconds``, holds one worker while the others go on. Outcomes are in ``due`` order.
    """
    factory = _factory(source)
    owner = owner or default_owner()
    with _scope(_reader(factory)) as session:
        due = due_channels(session, now, workspace_id=workspace_id)
    if workers <= 1 or len(due) <= 1:
        return [_sync_guarded(factory, channel_id, owner, max_pages, max_seconds) for channel_id in due]
    with ThreadPoolExecutor(max_workers=min(workers, len(due)), thread_name_prefix="channel-sync") as pool:
        futures = [pool.submit(_sync_guarded, factory, channel_id, owner, max_pages, max_seconds)
                   for channel_id in due]
        return [future.result() for future in futures]


class Scheduler:
    """The polling loop's engine: due channels run on a pool of ``workers`` threads, and a
    ``tick`` never waits for one: a channel whose network hangs keeps its thread (until its
    HTTP timeout) while the others are started, finished and started again on later ticks.

        scheduler = Scheduler(engine)
        while running:
            for outcome in scheduler.tick(): ...
            time.sleep(1)
        scheduler.close()

    With ``listen``, push-capable channels (Mastodon streaming, IMAP IDLE; see
    ``ingest.listen``) also get a listener that syncs them as soon as the network pushes;
    ``tick`` looks for new or changed channels every minute, ``close`` stops the listeners.
    """

    def __init__(self, source: SessionSource, *, owner: str | None = None, workers: int = WORKERS,
                 workspace_id: int | None = None, max_pages: int = MAX_PAGES,
                 max_seconds: float = MAX_SECONDS, listen: bool = False) -> None:
        self.factory = _factory(source)
        self.owner = owner or default_owner()
        self.workers = max(1, workers)
        self.workspace_id = workspace_id
        self.max_pages = max_pages
        self.max_seconds = max_seconds
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="channel-sync")
        self.running: dict[int, Future[SyncOutcome]] = {}
        self.listeners: Any = None
        if listen:
            from ventanilla.ingest.listen import Listeners

            self.listeners = Listeners(self.factory, workspace_id=workspace_id)

    def tick(self, now: datetime | None = None) -> list[SyncOutcome]:
        """Collect the syncs that finished since the last tick; start due channels on free workers."""
        if self.listeners is not None:
            self.listeners.maybe_refresh()  # never raises: a listener problem never stops polling
        finished = [cid for cid, future in self.running.items() if future.done()]
        outcomes = [self.running.pop(cid).result() for cid in finished]
        free = self.workers - len(self.running)
        if free > 0:
            with _scope(_reader(self.factory)) as session:
                due = [cid for cid in due_channels(session, now, workspace_id=self.workspace_id)
                       if cid not in self.running]
            for channel_id in due[:free]:
                self.running[channel_id] = self._pool.submit(
                    _sync_guarded, self.factory, channel_id, self.owner, self.max_pages, self.max_seconds)
        return outcomes

    def close(self, *, wait: bool = True) -> list[SyncOutcome]:
        """Stop starting syncs; with ``wait``, let the running ones finish and return them."""
        if self.listeners is not None:
            self.listeners.close(timeout=10.0 if wait else 0.0)
        self._pool.shutdown(wait=wait, cancel_futures=True)
        outcomes = [f.result() for f in self.running.values() if f.done() and not f.cancelled()]
        self.running.clear()
        return outcomes


def next_due_in(session: Session, now: datetime | None = None, *, workspace_id: int | None = None) -> float | None:
    """Seconds until the next polled channel is due (None: nothing is polled)."""
    now = now or utcnow()
    stmt = (select(ChannelSync.next_sync_at, ChannelSync.backoff_until)
            .join(Channel, Channel.id == ChannelSync.channel_id).where(ChannelSync.poll_seconds > 0))
    if workspace_id is not None:
        stmt = stmt.where(Channel.workspace_id == workspace_id)
    waits = []
    for next_at, backoff in session.execute(stmt).all():
        moments = [m for m in (next_at, backoff) if m is not None]
        waits.append(max(0.0, (max(moments) - now).total_seconds()) if moments else 0.0)
    return min(waits) if waits else None


@task(SYNC_TASK)
def sync_task(session: Session, payload: dict[str, Any]) -> None:
    """Queue task: ``{"channel_id": n}`` syncs one channel now; ``{}`` syncs every due one."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    owner = str(payload.get("owner") or default_owner())
    if payload.get("channel_id") is not None:
        sync_channel(engine, int(payload["channel_id"]), owner=owner)
    else:
        workspace = payload.get("workspace_id")
        run_scheduler_once(engine, owner=owner, workspace_id=int(workspace) if workspace is not None else None)


# -- credentials --------------------------------------------------------------------------------


def rotate_secrets(session: Session, channel: Channel, new_secrets: Mapping[str, str], actor: Actor,
                   *, remove: Sequence[str] = ()) -> dict[str, list[str]]:
    """Replace some of the channel's secrets, re-encrypt them all, and audit which keys changed.

    Keys not named keep their value; ``remove`` drops keys. The audit event lists key names
    only, never values. A channel parked for refused credentials is due again at once.
    Returns ``{"added": [...], "changed": [...], "removed": [...]}``.
    """
    try:
        current = unseal(channel.secrets_encrypted)
    except VaultError as exc:
        raise ChannelError("the stored secrets cannot be decrypted with the configured key; "
                           "set VENTANILLA_SECRET_KEY back, or recreate the channel") from exc
    cleaned = {str(k).strip(): str(v) for k, v in new_secrets.items() if str(k).strip()}
    if not cleaned and not remove:
        raise ChannelError("give at least one secret to rotate")
    added = sorted(k for k in cleaned if k not in current)
    changed = sorted(k for k in cleaned if k in current and current[k] != cleaned[k])
    removed = sorted(k for k in remove if k in current and k not in cleaned)
    updated = {k: v for k, v in current.items() if k not in removed}
    updated.update(cleaned)
    channel.secrets_encrypted = seal(updated)
    state = sync_state(session, channel.id)
    if state is not None:
        state.failures = 0
        state.backoff_until = None
        state.next_sync_at = utcnow()
    session.flush()
    keys = {"added": added, "changed": changed, "removed": removed}
    unchanged = sorted(set(cleaned) - set(changed) - set(added))
    record(session, actor, "channel.secrets_rotated", target_type="channel", target_id=channel.id,
           workspace_id=channel.workspace_id, after={**keys, "unchanged": unchanged})
    return keys
