"""The normalised shape every source turns its items into before `ingest.service.accept`."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_CHARS = 100_000


class PostKind(StrEnum):
    mention = "mention"
    comment = "comment"
    reply = "reply"
    direct_message = "direct_message"
    email = "email"
    review = "review"


class IncomingAuthor(BaseModel):
    """The author as the network gave them, and nothing more (no enrichment)."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=1, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    followers: int | None = Field(default=None, ge=0)
    verified: bool = False


class IncomingPost(BaseModel):
    """One post, comment, message or e-mail, normalised. `network` + `external_id` is unique."""

    model_config = ConfigDict(extra="forbid")

    network: str = Field(min_length=1, max_length=32)
    external_id: str = Field(min_length=1, max_length=255)
    author: IncomingAuthor
    text: str = Field(max_length=MAX_TEXT_CHARS)
    kind: PostKind = PostKind.mention
    created_at: datetime
    language: str | None = Field(default=None, max_length=8)
    url: str | None = Field(default=None, max_length=2048)
    parent_external_id: str | None = Field(default=None, max_length=255)
    thread_external_id: str | None = Field(default=None, max_length=255)
    likes: int = Field(default=0, ge=0)
    shares: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    brand: str | None = Field(default=None, max_length=255)
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        # PostgreSQL text cannot hold NUL; drop it rather than lose the post.
        return value.replace("\x00", "")

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # Sources that omit the zone mean UTC (the shared data says so); store aware UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
