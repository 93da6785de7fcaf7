"""SLA tables: policies, each case's clocks, published channel promises and breach alerts.

The workspace's business calendar is not a table: it lives in `Workspace.settings["calendar"]`
as `BusinessCalendar.to_dict()` data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, JSONType, UTCDateTime, utcnow

TARGETS = ("first_response", "next_response", "resolution")
ALERT_KINDS = ("at_risk", "breached")


class SlaPolicy(Base):
    """A promise for some cases: the first policy (by position) whose priority and channel match wins."""

    __tablename__ = "sla_policy"
    __table_args__ = (Index("ix_sla_policy_order", "workspace_id", "position", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    name: Mapped[str] = mapped_column(String(120))
    # None means "any priority" / "any channel".
    priority: Mapped[int | None] = mapped_column(Integer, default=None)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), default=None)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseSla(Base):
    """One case's clocks against its policy.

    Targets are copied from the policy when the clock starts, so editing a policy changes new
    cases only. Paused business seconds are kept per target because a pause that begins after
    a target fell due does not count for that target (`clock.closed_pause_seconds`).
    """

    __tablename__ = "case_sla"
    __table_args__ = (
        Index("ix_case_sla_running", "workspace_id", "stopped_at"),
        Index("ix_case_sla_next_check", "next_check"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id", ondelete="SET NULL"), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set while the case is resolved or closed: no clock runs.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set while the case waits on the customer.
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    first_response_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    first_response_paused: Mapped[float] = mapped_column(Float, default=0.0)
    first_response_state: Mapped[str | None] = mapped_column(String(16), default=None)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    next_response_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    # A next-response clock starts when the customer writes again after our reply.
    next_response_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_response_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_response_paused: Mapped[float] = mapped_column(Float, default=0.0)
    next_response_state: Mapped[str | None] = mapped_column(String(16), default=None)

    resolution_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution_paused: Mapped[float] = mapped_column(Float, default=0.0)
    resolution_state: Mapped[str | None] = mapped_column(String(16), default=None)

    first_response_at_risk_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    first_response_breached_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_response_at_risk_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_response_breached_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution_at_risk_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution_breached_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    # Epoch seconds (UTC) from which a state may change (a threshold or a due time is reached);
    # the bulk pass reads only clocks past it. NULL: recompute at the next pass (every event sets it).
    next_check: Mapped[float | None] = mapped_column(Float, default=None)

    # The flag a breach raises: who it was escalated to (user ids) and when.
    escalated_to: Mapped[list[int] | None] = mapped_column(JSONType, default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelPromise(Base):
    """What a channel publicly promises: an answer within `hours` (clock hours, as customers read it)."""

    __tablename__ = "channel_promise"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), unique=True)
    hours: Mapped[int] = mapped_column(Integer)
    text_es: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaAlert(Base):
    """A promise at risk or broken on one case. Exists once per (case, target, kind)."""

    __tablename__ = "sla_alert"
    __table_args__ = (
        UniqueConstraint("case_id", "target", "kind"),
        Index("ix_sla_alert_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    target: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # For a breach: the leads it was escalated to (user ids).
    escalated_to: Mapped[list[int] | None] = mapped_column(JSONType, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_email_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_webhook_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SlaAlertRecipient(Base):
    """Who sees an alert in the app, and when they read it (`read_at`)."""

    __tablename__ = "sla_alert_recipient"
    __table_args__ = (
        UniqueConstraint("alert_id", "user_id"),
        Index("ix_sla_alert_recipient_user", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("sla_alert.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
