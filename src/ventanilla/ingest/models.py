"""Channels, authors and posts: what the networks told us, stored as given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, JSONType, NullableJSON, UTCDateTime, utcnow


class Channel(Base):
    """One account on one network that the brand listens on and answers from."""

    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    network: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(255), default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fernet-encrypted JSON: webhook secret, tokens, passwords. Never logged or shown back.
    secrets_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Author(Base):
    """Someone who wrote to or about the brand: only what the network gave with the post."""

    __tablename__ = "author"
    __table_args__ = (UniqueConstraint("workspace_id", "network", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255), default=None)
    followers: Mapped[int | None] = mapped_column(Integer, default=None)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Post(Base):
    """A mention, comment, reply, message, e-mail or review, inbound or sent by us."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("workspace_id", "network", "external_id"),
        Index("ix_post_case_created", "case_id", "created_at"),
        Index("ix_post_author_created", "author_id", "created_at"),
        Index("ix_post_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))  # see ix_post_workspace_created
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), default=None)
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(8), default="in")
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    parent_external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    thread_external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    # Triage's label values (what queries filter on: JSONB on PostgreSQL) ...
    labels: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, default=None)
    # ... and what explains them (evidence, confidences, impact breakdown, urgency cues): only
    # ever shown, so plain JSON text on both engines (cheaper to write). Migration 0016.
    label_details: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    @property
    def labels_with_details(self) -> dict[str, Any] | None:
        """The labels as one document with their details under ``"details"`` (the API's shape)."""
        return join_labels(self.labels, self.label_details)


def split_labels(document: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Triage's document (values and ``"details"``) as the two columns: values, details."""
    if document is None:
        return None, None
    values = dict(document)
    return values, values.pop("details", None)


def join_labels(values: dict[str, Any] | None, details: dict[str, Any] | None) -> dict[str, Any] | None:
    """The two columns as triage's one document (`split_labels` undone)."""
    if values is None:
        return None
    return {**values, "details": details} if details is not None else dict(values)
