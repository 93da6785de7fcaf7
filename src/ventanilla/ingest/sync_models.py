"""Polling state of a channel: where its cursor stands, when it runs next, and how healthy it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, UTCDateTime

DEFAULT_POLL_SECONDS = 300


class ChannelSync(Base):
    """One row per polled channel. A channel without a row is not polled (webhooks, imports).

    ``cursor`` is the connector's opaque position, stored only after the posts it covers were
    committed. ``lease_owner``/``lease_until`` keep one channel on one worker at a time.
    """

    __tablename__ = "channel_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), unique=True)
    cursor: Mapped[str | None] = mapped_column(Text, default=None)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    poll_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_POLL_SECONDS,
                                              server_default=str(DEFAULT_POLL_SECONDS))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    healthy: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Already scrubbed of credentials when written (see ingest.sync.scrub).
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    backoff_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
