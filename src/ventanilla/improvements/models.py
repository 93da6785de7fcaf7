"""The improvement backlog: root causes found in complaints, the cases behind each, and the
"it is fixed" notices prepared for those customers when the improvement ships."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, JSONType, UTCDateTime, utcnow


class ImprovementState(StrEnum):
    proposed = "proposed"
    planned = "planned"
    shipped = "shipped"


class Improvement(Base):
    """A root cause to fix, owned by someone, moving proposed → planned → shipped."""

    __tablename__ = "improvement"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    root_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    state: Mapped[str] = mapped_column(String(16), default=ImprovementState.proposed.value)
    # What changed, told to customers in their language: {"es": "...", "en": "..."}.
    customer_note: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ImprovementCase(Base):
    """A case whose complaint the improvement answers."""

    __tablename__ = "improvement_case"
    __table_args__ = (UniqueConstraint("improvement_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    improvement_id: Mapped[int] = mapped_column(ForeignKey("improvement.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeState(StrEnum):
    draft = "draft"
    sent = "sent"


class ImprovementNotice(Base):
    """The "what you reported is fixed" message for one linked case, for an agent to send."""

    __tablename__ = "improvement_notice"
    __table_args__ = (UniqueConstraint("improvement_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    improvement_id: Mapped[int] = mapped_column(ForeignKey("improvement.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=NoticeState.draft.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
