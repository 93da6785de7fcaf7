"""Replies on their way out (approval, outbox), the lead's reply templates, and saved replies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, JSONType, UTCDateTime, utcnow


class ReplyStatus(StrEnum):
    draft = "draft"
    needs_approval = "needs_approval"
    approved = "approved"  # a lead said yes; the outbox sends it next
    rejected = "rejected"
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


# The outbox picks these up; "sending" belongs to the worker that claimed it.
SENDABLE = (ReplyStatus.queued.value, ReplyStatus.approved.value)


class Reply(Base):
    """One reply an agent wrote on a case, from submission to the network's receipt."""

    __tablename__ = "reply"
    __table_args__ = (
        Index("ix_reply_outbox", "status", "next_attempt_at"),
        Index("ix_reply_workspace_status", "workspace_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    stage: Mapped[str] = mapped_column(String(32), default="first_public")
    status: Mapped[str] = mapped_column(String(16), default=ReplyStatus.draft.value)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    approval_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    offer_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    offer_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    review_comment: Mapped[str | None] = mapped_column(Text, default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Stable across every retry: connectors use it so the network never posts the reply twice.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReplyTemplate(Base):
    """One version of a workspace's reply template; the newest version of a key is the active one.

    ``key`` is the playbook template's base name (``first_public``, ``praise``, ...), so the
    draft template it replaces is ``f"{key}.{language}"``.
    """

    __tablename__ = "reply_template"
    __table_args__ = (UniqueConstraint("workspace_id", "key", "language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    stage: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedReply(Base):
    """A macro: a ready text an agent inserts in the reply box with a key from 1 to 9."""

    __tablename__ = "saved_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    shortcut: Mapped[int | None] = mapped_column(Integer, default=None)
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
