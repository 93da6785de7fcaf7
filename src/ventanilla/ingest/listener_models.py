"""Push listeners' status and lease: who listens to a channel, since when, and how it goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, UTCDateTime


class ChannelListenerState(Base):
    """One row per channel that has been listened to (Mastodon streaming, IMAP IDLE).

    The row is also the listener's lease: ``holder`` (a token of one listener in one process)
    is set by a compare-and-set UPDATE only when nobody holds the channel or the holder's
    ``heartbeat_at`` is stale, so ``channels listen``, ``channels sync --loop``, the clock and
    ``serve`` may all run listeners and each channel is still listened to once.
    ``host``/``pid``/``process`` say where the holder runs; ``last_error`` is scrubbed of
    credentials before it is written (see ``ingest.sync.scrub``).
    """

    __tablename__ = "channel_listener"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(64), default=None)
    host: Mapped[str | None] = mapped_column(String(128), default=None)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    process: Mapped[str | None] = mapped_column(String(128), default=None)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    listening: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reconnects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
