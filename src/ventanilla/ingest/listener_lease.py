"""A push listener's lease on its channel, and the status it reports for the channels page.

Listeners may be started by several processes at once (``channels listen``, ``channels sync
--loop``, the clock, ``serve``); each channel must be listened to by one of them only. The
``channel_listener`` row is the lease: a listener takes it with one compare-and-set UPDATE
that matches only when nobody holds the channel, or when the holder's heartbeat is older than
``STALE_BEATS`` heartbeats (its process died without letting go). Two processes racing for a
free channel both run the UPDATE; the database lets exactly one of them match (SQLite has one
writer; PostgreSQL re-checks the condition on the row the winner just changed).

The holder writes its heartbeat with its status (listening or not, last event, reconnects,
last error) every ``HEARTBEAT_SECONDS`` and soon after a change; a heartbeat that matches no
row means the lease was lost, and the listener stops. Closing a listener frees the row.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ventanilla.db import utcnow
from ventanilla.ingest.listener_models import ChannelListenerState

HEARTBEAT_SECONDS = 20.0  # how often a holder says it is alive (and writes its status)
STALE_BEATS = 3  # heartbeats missed before another process may take the channel


@dataclass(slots=True)
class ListenerStatus:
    """What a listener reports, written with each heartbeat."""

    listening: bool = False
    last_event_at: datetime | None = None
    reconnects: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Holder:
    """One listener in one process: the lease's token and where it runs."""

    token: str
    host: str
    pid: int
    process: str

    @classmethod
    def here(cls, process: str | None = None) -> Holder:
        """A new holder for a listener of this process (``process``: its command, by default)."""
        return cls(token=uuid.uuid4().hex, host=socket.gethostname()[:128], pid=os.getpid(),
                   process=(process or command_name())[:128])


def command_name() -> str:
    """This process's command, short: ``ventanilla clock``, ``ventanilla channels listen``."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    words = [program] + [arg for arg in sys.argv[1:3] if not arg.startswith("-")]
    return " ".join(words)


def listener_states(session: Session, channel_ids: list[int]) -> dict[int, ChannelListenerState]:
    """The listener rows of ``channel_ids`` (channels never listened to have none)."""
    if not channel_ids:
        return {}
    rows = session.scalars(select(ChannelListenerState).where(ChannelListenerState.channel_id.in_(channel_ids)))
    return {row.channel_id: row for row in rows}


def is_held(state: ChannelListenerState | None, *, now: datetime | None = None,
            heartbeat_seconds: float = HEARTBEAT_SECONDS) -> bool:
    """Whether a listener holds the channel now (a holder whose heartbeat is fresh)."""
    if state is None or state.holder is None or state.heartbeat_at is None:
        return False
    return state.heartbeat_at >= (now or utcnow()) - timedelta(seconds=STALE_BEATS * heartbeat_seconds)


def take(session: Session, *, channel_id: int, holder: Holder, now: datetime | None = None,
         heartbeat_seconds: float = HEARTBEAT_SECONDS) -> bool:
    """Take the channel's listener lease for ``holder``; True when it is ours now.

    The row must exist (see :func:`ensure_row`). Matches only a free row, a stale holder, or
    ``holder`` itself; the caller commits. Reconnects and "listening" start again from zero.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=STALE_BEATS * heartbeat_seconds)
    result = session.execute(
        update(ChannelListenerState)
        .where(ChannelListenerState.channel_id == channel_id,
               or_(ChannelListenerState.holder.is_(None), ChannelListenerState.holder == holder.token,
                   ChannelListenerState.heartbeat_at.is_(None), ChannelListenerState.heartbeat_at < stale))
        .values(holder=holder.token, host=holder.host, pid=holder.pid, process=holder.process, since=now,
                heartbeat_at=now, listening=False, reconnects=0)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def beat(session: Session, *, channel_id: int, holder: Holder, status: ListenerStatus,
         now: datetime | None = None) -> bool:
    """Write ``holder``'s heartbeat and status; False when the lease is no longer ours."""
    result = session.execute(
        update(ChannelListenerState)
        .where(ChannelListenerState.channel_id == channel_id, ChannelListenerState.holder == holder.token)
        .values(heartbeat_at=now or utcnow(), listening=status.listening, last_event_at=status.last_event_at,
                reconnects=status.reconnects, last_error=status.last_error)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, *, channel_id: int, holder: Holder, status: ListenerStatus | None = None) -> bool:
    """Free the channel if ``holder`` has it; the last event, reconnects and error stay shown."""
    values: dict[str, object] = {"holder": None, "host": None, "pid": None, "process": None, "since": None,
                                 "heartbeat_at": None, "listening": False}
    if status is not None:
        values.update(last_event_at=status.last_event_at, reconnects=status.reconnects,
                      last_error=status.last_error)
    result = session.execute(
        update(ChannelListenerState)
        .where(ChannelListenerState.channel_id == channel_id, ChannelListenerState.holder == holder.token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def ensure_row(factory: sessionmaker[Session], channel_id: int) -> None:
    """Create the channel's listener row if it has none (racing creators are fine)."""
    session = factory()
    try:
        if session.get(ChannelListenerState, channel_id) is None:
            session.add(ChannelListenerState(channel_id=channel_id))
        session.commit()
    except IntegrityError:
        session.rollback()  # another process created it at the same moment
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class ListenerLease:
    """One listener's hold on one channel, each step in a short transaction of its own."""

    def __init__(self, factory: sessionmaker[Session], channel_id: int, *, process: str | None = None,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.factory = factory
        self.channel_id = channel_id
        self.holder = Holder.here(process)
        self.heartbeat_seconds = heartbeat_seconds

    def _run(self, step: str, status: ListenerStatus | None = None) -> bool:
        session = self.factory()
        try:
            if step == "take":
                done = take(session, channel_id=self.channel_id, holder=self.holder,
                            heartbeat_seconds=self.heartbeat_seconds)
            elif step == "beat":
                assert status is not None
                done = beat(session, channel_id=self.channel_id, holder=self.holder, status=status)
            else:
                done = release(session, channel_id=self.channel_id, holder=self.holder, status=status)
            session.commit()
            return done
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def take(self) -> bool:
        """Take the channel if nobody (alive) holds it; True when it is ours."""
        ensure_row(self.factory, self.channel_id)
        return self._run("take")

    def beat(self, status: ListenerStatus) -> bool:
        """Heartbeat with ``status``; False when another process has taken the channel."""
        return self._run("beat", status)

    def release(self, status: ListenerStatus | None = None) -> bool:
        """Let the channel go (with the final ``status``); False when it was not ours any more."""
        return self._run("release", status)


def push_status(listener: ChannelListenerState | None, now: datetime) -> dict[str, Any]:
    """A push channel's listener as the channels page and `channels list` show it: ``state`` is
    never / listening / connecting / stopped (written by listeners in other processes)."""
    held = is_held(listener, now=now)
    if listener is None:
        state = "never"
    elif held and listener.listening:
        state = "listening"
    elif held:
        state = "connecting"
    else:
        state = "stopped"
    return {"state": state, "held": held, "row": listener,
            "stale": listener is not None and listener.holder is not None and not held}
