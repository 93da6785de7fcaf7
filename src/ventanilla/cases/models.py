"""Cases (one customer's matter, across posts) and the notes agents leave on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, UTCDateTime, utcnow


class CaseStatus(StrEnum):
    new = "new"
    open = "open"
    waiting = "waiting"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = (CaseStatus.new, CaseStatus.open, CaseStatus.waiting)


class Case(Base):
    """Everything one author raised on one channel or thread until it is resolved."""

    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_inbox", "workspace_id", "status", "priority", "last_activity_at"),
        # Matches the inbox's default order exactly (mixed directions), so no sort is needed.
        Index("ix_case_order", "workspace_id", "priority", text("last_activity_at DESC"), text("id DESC")),
        Index("ix_case_recent", "workspace_id", "last_activity_at", "id"),
        Index("ix_case_author_status", "author_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    thread_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # The post that opened the case (unique: one post opens at most one case).
    origin_post_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.new.value)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    subject: Mapped[str] = mapped_column(String(280), default="")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), default=None, index=True
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), default=None)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Note(Base):
    """An internal note: seen by the team, never by the customer."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
