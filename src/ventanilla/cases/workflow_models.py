"""Tables of the case workflow: routing rules, the playbook checklist, resolutions, hand-offs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, JSONType, UTCDateTime, utcnow


class RoutingRule(Base):
    """When a new case matches ``conditions``, it goes to ``team_id`` (rules run by position)."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    # Any of: reason, language, channel_id, priority_max (1-4), min_followers.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ChecklistStep(Base):
    """One ticked step of the complaint playbook on a case."""

    __tablename__ = "case_checklist_step"
    __table_args__ = (UniqueConstraint("case_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_by: Mapped[str] = mapped_column(String(255))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)


class Resolution(Base):
    """How a case ended: outcome, classification, root cause and any goodwill offered."""

    __tablename__ = "case_resolution"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), unique=True)
    outcome: Mapped[str] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(16))  # justified / unjustified / abusive
    root_cause: Mapped[str | None] = mapped_column(String(200), default=None)
    goodwill_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    goodwill_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    approval: Mapped[str] = mapped_column(String(16), default="none")  # none / pending / approved / rejected
    requested_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    review_comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Handoff(Base):
    """The conversation moved to a private channel (the public thread stays, linked)."""

    __tablename__ = "case_handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    via: Mapped[str] = mapped_column(String(16))  # direct_message / email / phone
    summary: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
