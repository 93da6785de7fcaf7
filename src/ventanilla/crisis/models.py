"""Crisis alerts and crisis rooms: what the team saw, who joined, what was said and signed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, JSONType, NullableJSON, UTCDateTime, utcnow


class RoomRole(StrEnum):
    """What a member does in a crisis room."""

    commander = "commander"
    communications = "communications"
    legal = "legal"
    hr = "hr"
    marketing = "marketing"
    scribe = "scribe"


class EntryKind(StrEnum):
    """What a timeline entry is about."""

    alert = "alert"
    post = "post"
    decision = "decision"
    reply = "reply"
    status = "status"
    note = "note"


class StatementState(StrEnum):
    draft = "draft"
    awaiting_signoff = "awaiting_signoff"
    published = "published"


class CrisisAlert(Base):
    """One alert episode of a workspace, updated as it grows and closed when it calms."""

    __tablename__ = "crisis_alert"
    __table_args__ = (UniqueConstraint("workspace_id", "episode_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    episode_key: Mapped[str] = mapped_column(String(64))
    brand: Mapped[str | None] = mapped_column(String(200), default=None)
    level: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(200), default="")
    why: Mapped[str] = mapped_column(Text, default="")
    # Ids of example posts (the detector's examples found back in the database).
    example_post_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    examples: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Every level reached, in order: [{"level": "watch", "at": iso}, ...].
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    peak_negative_hour: Mapped[int] = mapped_column(Integer, default=0)
    peak_z: Mapped[float] = mapped_column(default=0.0)
    # Level name -> ISO time it was delivered on that channel (each level once per channel).
    delivered_email_at: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    delivered_webhook_at: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrisisRoom(Base):
    """Where the crisis team works one crisis: members, timeline, statements, post-mortem."""

    __tablename__ = "crisis_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("crisis_alert.id"), default=None)
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class CrisisMember(Base):
    """A person in a room with one role (a person may hold several roles)."""

    __tablename__ = "crisis_member"
    __table_args__ = (UniqueConstraint("room_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("crisis_room.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    # In-app notice: shown until the member opens the room; e-mail stamped once sent.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CrisisEntry(Base):
    """One line of a room's timeline."""

    __tablename__ = "crisis_entry"
    __table_args__ = (Index("ix_crisis_entry_room_at", "room_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("crisis_room.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(255), default="system")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    refs: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, default=None)


class CrisisStatement(Base):
    """One version of a holding statement in one language; every edit is a new version."""

    __tablename__ = "crisis_statement"
    __table_args__ = (UniqueConstraint("room_id", "language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("crisis_room.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    edited_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default=StatementState.draft.value)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)


class CrisisSignoff(Base):
    """A room role's approval of one exact statement version."""

    __tablename__ = "crisis_signoff"
    __table_args__ = (UniqueConstraint("statement_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("crisis_statement.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrisisPostmortem(Base):
    """What the team learnt; a room cannot close without it."""

    __tablename__ = "crisis_postmortem"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("crisis_room.id"), unique=True)
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    # [{"text": ..., "backlog_id": int | None}]: backlog_id set when the improvement backlog took it.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # [{"hour": iso, "negative": n}, ...] over the room's life.
    volume_curve: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    written_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
