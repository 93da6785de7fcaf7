"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Dialect, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ventanilla.audit.chain import canonical_json
from ventanilla.db import Base, UTCDateTime, utcnow


class CanonicalJSON(TypeDecorator[Any]):
    """A JSON document stored as its canonical text: the very bytes the event's hash covers.

    PostgreSQL's ``json`` type (not ``jsonb``) and SQLite's text keep that text byte for byte, so
    `audit verify` can hash what it reads instead of parsing and re-serialising every document.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            from psycopg.types.json import Json

            return lambda value: Json(value, dumps=canonical_json)
        return canonical_json


class AuditEvent(Base):
    """Who did what to which thing, when, with the state before and after."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspace.id"), default=None)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(CanonicalJSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(CanonicalJSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row holding the chain's last hash; updating it serialises writers on every engine."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
