"""Follow-ups after a case is resolved, and the customer's satisfaction answer (CSAT)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, UTCDateTime, utcnow


class FollowupState(StrEnum):
    scheduled = "scheduled"  # waiting for due_at
    sent = "sent"  # the survey message went out (e-mail) or is ready for an agent to send
    answered = "answered"  # the customer answered the survey
    expired = "expired"  # the case was reopened first, or the survey was never answered in time


class FollowupChannel(StrEnum):
    private = "private"  # an agent sends the prepared message in a private conversation
    email = "email"  # sent by e-mail to the author's address


class Followup(Base):
    """One satisfaction check on a resolved case. Only the survey token's SHA-256 is stored."""

    __tablename__ = "followup"
    __table_args__ = (Index("ix_followup_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default=FollowupChannel.private.value)
    state: Mapped[str] = mapped_column(String(16), default=FollowupState.scheduled.value)
    # Set when the message is prepared (the plain token only ever lives in the message).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    recipient: Mapped[str | None] = mapped_column(String(320), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)


class CsatResponse(Base):
    """The customer's answer to one follow-up: a score from 1 to 5 and an optional comment."""

    __tablename__ = "csat_response"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followup.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
