"""The outbox: sending queued replies through their channel's connector, once each.

A reply moves ``queued`` (or ``approved``) → ``sending`` → ``sent`` | ``failed``. The move to
``sending`` is committed BEFORE the network is called, and nothing holds a transaction open
while it is. So a worker that dies mid-send leaves the reply in ``sending``, where it is never
sent again blindly: ``recover_interrupted`` asks the connector whether the network has it
(connectors that can look a reply up by its idempotency key offer ``find_sent``) and marks it
``sent`` when it does; otherwise the reply goes to ``failed`` with the reason "interrupted —
check the network before resending", for a person to check and resend (same key).

Retryable errors (timeouts, 5xx, 429) put the reply back in ``queued`` with an exponential
backoff: 30 s, 60 s, 120 s … capped at one hour (or the network's Retry-After when longer),
at most 8 attempts; other errors fail it at once with the reason. The idempotency key is the
same on every attempt, so a retry of a send whose answer was lost does not post twice.

Run it: the ``replies.send`` task (payload ``{"reply_id": n}`` sends one reply now; ``{}``
recovers interrupted sends and sends every due reply), or ``python -m ventanilla.replies.outbox``
(one round; ``--loop`` keeps going).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import httpx
from sqlalchemy import Engine, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ventanilla.audit.service import SYSTEM, record
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.db import get_engine, session_factory, utcnow
from ventanilla.events import publish
from ventanilla.ingest.connectors.base import Connector, ConnectorError, OutgoingReply, SentReceipt
from ventanilla.ingest.models import Author, Channel, Post
from ventanilla.ingest.schema import PostKind
from ventanilla.replies.models import SENDABLE, Reply, ReplyStatus
from ventanilla.workers.queue import get_queue, task

log = logging.getLogger(__name__)

SEND_TASK = "replies.send"
RETRY_BASE = 30.0
RETRY_CAP = 3600.0
MAX_ATTEMPTS = 8
# A reply still "sending" after this long lost its worker (connectors time out far sooner).
STALE_AFTER = timedelta(minutes=10)
INTERRUPTED = "interrupted — check the network before resending"
MAX_ERROR_CHARS = 500

SessionSource = Engine | sessionmaker[Session]


@runtime_checkable
class ConfirmsDelivery(Protocol):
    """A connector that can look a reply up on the network by its idempotency key."""

    def find_sent(self, idempotency_key: str) -> SentReceipt | None:
        """The receipt when the network has the reply, None when it has not (raises when unsure)."""
        ...


@dataclass(slots=True)
class SendOutcome:
    """What one attempt did to one reply."""

    reply_id: int
    status: str
    error: str | None = None


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt after ``attempts`` tries: 30 s doubling, capped at 1 h."""
    delay = min(RETRY_CAP, RETRY_BASE * 2 ** max(0, attempts - 1))
    return max(delay, min(RETRY_CAP, retry_after or 0.0))


def _factory(source: SessionSource | None) -> sessionmaker[Session]:
    if isinstance(source, sessionmaker):
        return source
    return session_factory(source or get_engine())


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


def connector_for_channel(channel: Channel) -> Connector:
    """The channel's connector (built by ``ingest.sync.connector_for``)."""
    from ventanilla.ingest.sync import connector_for

    return connector_for(channel)


def _outgoing(session: Session, reply: Reply, channel: Channel) -> OutgoingReply:
    """The reply as the connector needs it: the customer's latest message is what it answers."""
    case_ = session.get(Case, reply.case_id)
    author = session.get(Author, case_.author_id) if case_ else None
    parent = session.scalar(select(Post).where(Post.case_id == reply.case_id, Post.direction == "in")
                            .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))
    return OutgoingReply(
        idempotency_key=reply.idempotency_key,
        text=reply.text,
        in_reply_to_external_id=parent.external_id if parent else None,
        private=not reply.public,
        recipient_handle=author.handle if author else None,
        thread_external_id=parent.thread_external_id if parent else None,
    )


def _claim(factory: sessionmaker[Session], reply_id: int, now: datetime) -> tuple[Connector, OutgoingReply] | None:
    """Move the reply to ``sending`` and commit; None when another worker has it or it is not due."""
    with _scope(factory) as session:
        claimed = session.execute(
            update(Reply).where(Reply.id == reply_id, Reply.status.in_(SENDABLE),
                                or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now))
            .values(status=ReplyStatus.sending.value, attempts=Reply.attempts + 1, sending_started_at=now,
                    updated_at=now)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        reply = session.get(Reply, reply_id)
        assert reply is not None
        channel = session.get(Channel, reply.channel_id)
        assert channel is not None
        outgoing = _outgoing(session, reply, channel)
        try:
            connector = connector_for_channel(channel)
        except Exception as exc:  # no connector, undecryptable secrets, bad settings
            _fail(session, reply, f"cannot reach the network: {exc}")
            return None
    return connector, outgoing


def _brand_author(session: Session, channel: Channel) -> int:
    """The author row for our own account on the channel (outbound posts are written by it)."""
    handle = (channel.account or channel.slug).strip()[:255] or channel.slug
    author_id = session.scalar(select(Author.id).where(
        Author.workspace_id == channel.workspace_id, Author.network == channel.network, Author.handle == handle))
    if author_id is None:
        author = Author(workspace_id=channel.workspace_id, network=channel.network, handle=handle,
                        display_name=channel.name)
        session.add(author)
        session.flush()
        author_id = author.id
    return author_id


def _mark_sent(session: Session, reply: Reply, receipt: SentReceipt, now: datetime) -> None:
    """Record the receipt: the reply is sent, the case shows our post and its first response."""
    channel = session.get(Channel, reply.channel_id)
    assert channel is not None
    post = session.scalar(select(Post).where(Post.workspace_id == reply.workspace_id,
                                             Post.network == channel.network,
                                             Post.external_id == receipt.external_id[:255]))
    if post is None:
        kind = PostKind.email if channel.network == "email" else (
            PostKind.reply if reply.public else PostKind.direct_message)
        post = Post(workspace_id=reply.workspace_id, channel_id=channel.id,
                    author_id=_brand_author(session, channel), case_id=reply.case_id, network=channel.network,
                    external_id=receipt.external_id[:255], direction="out", kind=kind.value, text=reply.text,
                    language=reply.language, url=receipt.url, created_at=now,
                    raw={"reply_id": reply.id, "idempotency_key": reply.idempotency_key})
        session.add(post)
        session.flush()
    reply.status = ReplyStatus.sent.value
    reply.external_id = receipt.external_id[:255]
    reply.url = receipt.url
    reply.post_id = post.id
    reply.sent_at = now
    reply.last_error = None
    reply.next_attempt_at = None
    before = session.execute(select(Case.status, Case.first_response_at).where(Case.id == reply.case_id)).one()
    # A plain UPDATE (not the ORM's version check): the reply is out, so this must not conflict.
    session.execute(
        update(Case).where(Case.id == reply.case_id)
        .values(first_response_at=func.coalesce(Case.first_response_at, now),
                status=case((Case.status == CaseStatus.new.value, CaseStatus.open.value), else_=Case.status),
                post_count=Case.post_count + 1, last_activity_at=now, version=Case.version + 1)
        .execution_options(synchronize_session=False))
    record(session, SYSTEM, "reply.sent", target_type="case", target_id=reply.case_id,
           workspace_id=reply.workspace_id,
           after={"reply_id": reply.id, "external_id": reply.external_id, "post_id": post.id,
                  "first_response": before.first_response_at is None})
    if before.status == CaseStatus.new.value:
        record(session, SYSTEM, "case.status_changed", target_type="case", target_id=reply.case_id,
               workspace_id=reply.workspace_id, before={"status": CaseStatus.new.value},
               after={"status": CaseStatus.open.value})
    # SLA clocks, the playbook checklist and an open crisis room react to the reply.
    publish(session, "case.replied", case_id=reply.case_id, reply_id=reply.id, public=reply.public, at=now)


def _fail(session: Session, reply: Reply, reason: str) -> None:
    reply.status = ReplyStatus.failed.value
    reply.last_error = reason[:MAX_ERROR_CHARS]
    reply.next_attempt_at = None
    session.flush()
    record(session, SYSTEM, "reply.failed", target_type="case", target_id=reply.case_id,
           workspace_id=reply.workspace_id,
           after={"reply_id": reply.id, "attempts": reply.attempts, "error": reply.last_error})


def _describe(exc: BaseException) -> str:
    from ventanilla.ingest.sync import describe_error

    return describe_error(exc)[:MAX_ERROR_CHARS]


def send_reply(source: SessionSource | None, reply_id: int, *, now: datetime | None = None) -> SendOutcome:
    """Send one queued reply now, if it is due and no other worker has it."""
    factory = _factory(source)
    now = now or utcnow()
    claimed = _claim(factory, reply_id, now)
    if claimed is None:
        with _scope(factory) as session:
            status = session.scalar(select(Reply.status).where(Reply.id == reply_id))
        return SendOutcome(reply_id, status or "missing")
    connector, outgoing = claimed
    receipt: SentReceipt | None = None
    error: BaseException | None = None
    try:
        receipt = connector.send(outgoing)  # no transaction is open here
    except Exception as exc:
        error = exc
    finally:
        _close(connector)
    done = utcnow()
    with _scope(factory) as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        if reply.status != ReplyStatus.sending.value:
            # Someone recovered it meanwhile (we were slower than STALE_AFTER): their word stands.
            return SendOutcome(reply_id, reply.status)
        if receipt is not None:
            _mark_sent(session, reply, receipt, done)
            return SendOutcome(reply_id, reply.status)
        assert error is not None
        reason = _describe(error)
        if isinstance(error, ConnectorError) and error.retryable and reply.attempts < MAX_ATTEMPTS:
            reply.status = ReplyStatus.queued.value
            reply.last_error = reason
            reply.next_attempt_at = done + timedelta(seconds=retry_delay(reply.attempts, error.retry_after))
            record(session, SYSTEM, "reply.retry_scheduled", target_type="case", target_id=reply.case_id,
                   workspace_id=reply.workspace_id,
                   after={"reply_id": reply.id, "attempts": reply.attempts, "error": reason,
                          "next_attempt_at": reply.next_attempt_at.isoformat()})
            log.warning("reply %d: attempt %d failed, retrying: %s", reply_id, reply.attempts, reason)
        else:
            if isinstance(error, ConnectorError) and error.retryable:
                reason = f"gave up after {reply.attempts} attempts: {reason}"
            _fail(session, reply, reason)
            log.warning("reply %d: failed: %s", reply_id, reason)
        return SendOutcome(reply_id, reply.status, reason)


def _close(connector: Connector) -> None:
    # A connector built for one send owns its HTTP client: don't leave the pool open.
    http = getattr(connector, "http", None)
    if isinstance(http, httpx.Client):
        http.close()


def recover_interrupted(source: SessionSource | None, *, stale_after: timedelta = STALE_AFTER,
                        now: datetime | None = None) -> list[SendOutcome]:
    """Settle replies left in ``sending`` by a worker that died: confirmed on the network → sent,
    otherwise → failed with the reason INTERRUPTED. Never sends anything."""
    factory = _factory(source)
    now = now or utcnow()
    with _scope(factory) as session:
        stuck = list(session.scalars(select(Reply.id).where(
            Reply.status == ReplyStatus.sending.value, Reply.sending_started_at <= now - stale_after)
            .order_by(Reply.id)))
    outcomes = []
    for reply_id in stuck:
        with _scope(factory) as session:
            reply = session.get(Reply, reply_id)
            channel = session.get(Channel, reply.channel_id) if reply else None
            if reply is None or channel is None or reply.status != ReplyStatus.sending.value:
                continue
            key = reply.idempotency_key
        receipt: SentReceipt | None = None
        reason = INTERRUPTED
        try:
            connector = connector_for_channel(channel)
            try:
                if isinstance(connector, ConfirmsDelivery):
                    receipt = connector.find_sent(key)
            finally:
                _close(connector)
        except Exception as exc:  # cannot ask: a person must check
            reason = f"{INTERRUPTED} ({_describe(exc)})"
        with _scope(factory) as session:
            reply = session.get(Reply, reply_id)
            if reply is None or reply.status != ReplyStatus.sending.value:
                continue
            if receipt is not None:
                _mark_sent(session, reply, receipt, utcnow())
            else:
                _fail(session, reply, reason)
            outcomes.append(SendOutcome(reply_id, reply.status, reply.last_error))
    return outcomes


def due_replies(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of replies waiting to be sent whose time has come, oldest first."""
    now = now or utcnow()
    return list(session.scalars(
        select(Reply.id).where(Reply.status.in_(SENDABLE),
                               or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now))
        .order_by(Reply.id).limit(limit)))


def run_once(source: SessionSource | None = None, *, now: datetime | None = None,
             stale_after: timedelta = STALE_AFTER, limit: int = 100) -> list[SendOutcome]:
    """One round of the outbox: settle interrupted sends, then send every due reply."""
    factory = _factory(source)
    outcomes = recover_interrupted(factory, stale_after=stale_after, now=now)
    with _scope(factory) as session:
        due = due_replies(session, now=now, limit=limit)
    for reply_id in due:
        outcomes.append(send_reply(factory, reply_id, now=now))
    return outcomes


def dispatch(reply_id: int) -> None:
    """Hand a just-committed queued or approved reply to the background queue for sending."""
    get_queue().enqueue(SEND_TASK, {"reply_id": reply_id})


@task(SEND_TASK)
def send_task(session: Session, payload: dict[str, Any]) -> None:
    """Queue task: ``{"reply_id": n}`` sends one reply; ``{}`` runs one round of the outbox."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if payload.get("reply_id") is not None:
        send_reply(engine, int(payload["reply_id"]))
    else:
        run_once(engine)


def main(argv: list[str] | None = None) -> None:
    """``python -m ventanilla.replies.outbox [--loop SECONDS]``: run the outbox on the configured database."""
    parser = argparse.ArgumentParser(prog="python -m ventanilla.replies.outbox", description=main.__doc__)
    parser.add_argument("--loop", type=float, default=0.0, help="keep running, one round every SECONDS")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import ventanilla.all_models  # noqa: F401

    while True:
        for outcome in run_once():
            log.info("reply %d: %s%s", outcome.reply_id, outcome.status,
                     f" ({outcome.error})" if outcome.error else "")
        if args.loop <= 0:
            return
        time.sleep(args.loop)


if __name__ == "__main__":
    main()
