"""Guardrails on what we engage with and what our inbox shows. Nothing here deletes a post or
touches it on the network: a troll's posts stay stored, visible and counted; spam may only be
folded away in our own inbox, with a reason and a lead's approval."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, UTCDateTime, utcnow


class CaseGuardrail(Base):
    """A lead's or agent's decision not to answer a case (a persistent troll), with the reason."""

    __tablename__ = "case_guardrail"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), unique=True)
    do_not_engage: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VisibilityState(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"


class PostVisibility(Base):
    """A request to fold a spam post away in OUR inbox only; the post itself is never changed."""

    __tablename__ = "post_visibility"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), unique=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=VisibilityState.requested.value)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
