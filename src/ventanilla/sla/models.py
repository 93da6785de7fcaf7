"""SLA tables: policies, each case's clocks, published channel promises and breach alerts.

The workspace's business calendar is not a table: it lives in `Workspace.settings["calendar"]`
as `BusinessCalendar.to_dict()` data.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, join
from sqlalchemy.orm import Mapped, column_property, mapped_column

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


case_sla_table = Table(
    "case_sla",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("case_file.id"), nullable=False, unique=True),
    Column("workspace_id", ForeignKey("workspace.id"), nullable=False),
    Column("policy_id", ForeignKey("sla_policy.id", ondelete="SET NULL"), nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    # Set while the case is resolved or closed: no clock runs.
    Column("stopped_at", UTCDateTime, nullable=True),
    # Set while the case waits on the customer.
    Column("paused_since", UTCDateTime, nullable=True),
    Column("first_response_seconds", Float, nullable=True),
    Column("first_response_paused", Float, nullable=False, default=0.0),
    Column("first_responded_at", UTCDateTime, nullable=True),
    Column("next_response_seconds", Float, nullable=True),
    # A next-response clock starts when the customer writes again after our reply.
    Column("next_response_started_at", UTCDateTime, nullable=True),
    Column("next_response_done_at", UTCDateTime, nullable=True),
    Column("next_response_paused", Float, nullable=False, default=0.0),
    Column("resolution_seconds", Float, nullable=True),
    Column("resolution_paused", Float, nullable=False, default=0.0),
    *(Column(f"{target}_{kind}_alerted_at", UTCDateTime, nullable=True)
      for target in TARGETS for kind in ALERT_KINDS),
    # The flag a breach raises: who it was escalated to (user ids) and when.
    Column("escalated_to", JSONType, nullable=True),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
    Index("ix_case_sla_running", "workspace_id", "stopped_at"),
)

# What the bulk pass computes and rewrites, in a narrow table of its own (migration 0013): a pass
# that rewrites 100,000 clocks writes short rows with no secondary index. On PostgreSQL the table
# keeps free room in each page (fillfactor 50), so those updates are HOT (no index entry at all).
# `next_check` is deliberately not indexed: a scan of this table is cheap, an index is not.
case_sla_clock_table = Table(
    "case_sla_clock",
    Base.metadata,
    Column("case_sla_id", ForeignKey("case_sla.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("first_response_due", UTCDateTime, nullable=True),
    Column("first_response_state", String(16), nullable=True),
    Column("next_response_due", UTCDateTime, nullable=True),
    Column("next_response_state", String(16), nullable=True),
    Column("resolution_due", UTCDateTime, nullable=True),
    Column("resolution_state", String(16), nullable=True),
    # Epoch seconds (UTC) from which a state may change (a threshold or a due time is reached);
    # the bulk pass reads only clocks past it. NULL: recompute at the next pass (every event sets it).
    Column("next_check", Float, nullable=True),
    # When these columns were last written (the bulk pass or an event).
    Column("computed_at", UTCDateTime, nullable=True),
    postgresql_with={"fillfactor": "50"},
)


class CaseSla(Base):
    """One case's clocks against its policy (one row of `case_sla` joined to its `case_sla_clock`).

    Targets are copied from the policy when the clock starts, so editing a policy changes new
    cases only. Paused business seconds are kept per target because a pause that begins after
    a target fell due does not count for that target (`clock.closed_pause_seconds`).

    The ORM writes both tables; Core statements must name the table they write
    (`case_sla_table` or `case_sla_clock_table`), and a new clock needs a row in each.
    """

    __table__ = join(case_sla_table, case_sla_clock_table,
                     case_sla_table.c.id == case_sla_clock_table.c.case_sla_id)

    id = column_property(case_sla_table.c.id, case_sla_clock_table.c.case_sla_id)

    if TYPE_CHECKING:
        id: Mapped[int]  # type: ignore[no-redef]
        case_id: Mapped[int]
        workspace_id: Mapped[int]
        policy_id: Mapped[int | None]
        started_at: Mapped[datetime]
        stopped_at: Mapped[datetime | None]
        paused_since: Mapped[datetime | None]

        first_response_seconds: Mapped[float | None]
        first_response_due: Mapped[datetime | None]
        first_response_paused: Mapped[float]
        first_response_state: Mapped[str | None]
        first_responded_at: Mapped[datetime | None]

        next_response_seconds: Mapped[float | None]
        next_response_started_at: Mapped[datetime | None]
        next_response_done_at: Mapped[datetime | None]
        next_response_due: Mapped[datetime | None]
        next_response_paused: Mapped[float]
        next_response_state: Mapped[str | None]

        resolution_seconds: Mapped[float | None]
        resolution_due: Mapped[datetime | None]
        resolution_paused: Mapped[float]
        resolution_state: Mapped[str | None]

        first_response_at_risk_alerted_at: Mapped[datetime | None]
        first_response_breached_alerted_at: Mapped[datetime | None]
        next_response_at_risk_alerted_at: Mapped[datetime | None]
        next_response_breached_alerted_at: Mapped[datetime | None]
        resolution_at_risk_alerted_at: Mapped[datetime | None]
        resolution_breached_alerted_at: Mapped[datetime | None]

        next_check: Mapped[float | None]
        computed_at: Mapped[datetime | None]
        escalated_to: Mapped[list[int] | None]
        escalated_at: Mapped[datetime | None]
        updated_at: Mapped[datetime]


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
