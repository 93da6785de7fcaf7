"""Writing and verifying the audit trail. Every state change in the product calls `record`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from ventanilla.audit.chain import (
    GENESIS,
    canonical_json,
    event_text,
    iso_second,
    text_hash,
)
from ventanilla.audit.models import AuditEvent, AuditHead
from ventanilla.audit.verifier import VerifyResult, verify
from ventanilla.bulk import bulk_insert
from ventanilla.db import utcnow

__all__ = ["SYSTEM", "Actor", "EventDraft", "VerifyResult", "events_for", "record", "record_many", "verify"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a signed-in user, or a named part of the system (``user_id`` None)."""

    name: str
    user_id: int | None = None


SYSTEM = Actor("system")


@dataclass(slots=True)
class EventDraft:
    """An event to append; `record_many` hashes and writes a batch of them in order."""

    action: str
    target_type: str
    target_id: str
    workspace_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


_COLUMNS = ("workspace_id", "actor_user_id", "actor", "action", "target_type", "target_id", "before", "after",
            "created_at", "prev_hash", "hash")


def _lock_head(session: Session) -> str:
    # The UPDATE takes the row lock on PostgreSQL (and the write lock on SQLite) before we
    # read the last hash, so two writers can never chain onto the same event.
    result = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=1, seq=1, hash=GENESIS))
        session.flush()
        return GENESIS
    return session.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one()


def record_many(session: Session, actor: Actor, drafts: Sequence[EventDraft]) -> str:
    """Append ``drafts`` to the chain in order, in the session's transaction; return last hash."""
    if not drafts:
        return ""
    prev = _lock_head(session)
    now = utcnow().replace(microsecond=0)
    created = iso_second(now)
    # The documents are serialised once: the canonical text that is hashed is the text stored
    # (`CanonicalJSON`), handed to the driver as is (a missing document is the JSON text ``null``,
    # as the column type itself stores it).
    rows = []
    for draft in drafts:
        workspace_id = None if draft.workspace_id is None else int(draft.workspace_id)
        target_id = str(draft.target_id)
        before = canonical_json(draft.before)
        after = canonical_json(draft.after)
        text = event_text(
            workspace_id=workspace_id,
            actor_user_id=actor.user_id,
            actor=actor.name,
            action=draft.action,
            target_type=draft.target_type,
            target_id=target_id,
            before_json=before,
            after_json=after,
            created_at=created,
        )
        digest = text_hash(prev, text)
        rows.append((workspace_id, actor.user_id, actor.name, draft.action, draft.target_type, target_id,
                     before, after, now, prev, digest))
        prev = digest
    bulk_insert(session, cast(Table, AuditEvent.__table__), _COLUMNS, rows, ready=("before", "after"))
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    return prev


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: int | str,
    workspace_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> str:
    """Append one event (actor, action, target, before/after) and return its hash."""
    draft = EventDraft(action, target_type, str(target_id), workspace_id, before, after)
    return record_many(session, actor, [draft])


def events_for(session: Session, *, target_type: str, target_ids: Sequence[str]) -> list[AuditEvent]:
    """The events about the given targets, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.target_type == target_type, AuditEvent.target_id.in_(target_ids))
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))
