"""Writing and verifying the audit trail. Every state change in the product calls `record`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from ventanilla.audit.chain import GENESIS, hashed_fields, link_hash
from ventanilla.audit.models import AuditEvent, AuditHead
from ventanilla.db import utcnow


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
    rows = []
    for draft in drafts:
        fields = hashed_fields(
            workspace_id=draft.workspace_id,
            actor_user_id=actor.user_id,
            actor=actor.name,
            action=draft.action,
            target_type=draft.target_type,
            target_id=str(draft.target_id),
            before=draft.before,
            after=draft.after,
            created_at=now,
        )
        digest = link_hash(prev, fields)
        rows.append(
            {
                "workspace_id": draft.workspace_id,
                "actor_user_id": actor.user_id,
                "actor": actor.name,
                "action": draft.action,
                "target_type": draft.target_type,
                "target_id": str(draft.target_id),
                "before": draft.before,
                "after": draft.after,
                "created_at": now,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    session.execute(insert(cast(Table, AuditEvent.__table__)), rows)
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


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain: ``broken_id`` is the first event that does not hold."""

    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _rows(session: Session, batch: int) -> Iterator[Any]:
    columns = (
        AuditEvent.id, AuditEvent.workspace_id, AuditEvent.actor_user_id, AuditEvent.actor,
        AuditEvent.action, AuditEvent.target_type, AuditEvent.target_id, AuditEvent.before,
        AuditEvent.after, AuditEvent.created_at, AuditEvent.prev_hash, AuditEvent.hash,
    )
    last_id = 0
    while True:
        chunk = session.execute(
            select(*columns).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1].id


def verify(session: Session, *, batch: int = 20_000) -> VerifyResult:
    """Walk the whole chain and report the first event whose link or content was altered."""
    prev = GENESIS
    checked = 0
    last_id = 0
    for row in _rows(session, batch):
        created: datetime = row.created_at
        fields = hashed_fields(
            workspace_id=row.workspace_id,
            actor_user_id=row.actor_user_id,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            before=row.before,
            after=row.after,
            created_at=created,
        )
        if row.prev_hash != prev:
            return VerifyResult(checked, row.id, "its previous-hash link does not match")
        if link_hash(prev, fields) != row.hash:
            return VerifyResult(checked, row.id, "its content does not match its hash")
        prev = row.hash
        last_id = row.id
        checked += 1
    head = session.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar()
    if head is not None and head != prev:
        return VerifyResult(checked, last_id, "events after this one were removed")
    return VerifyResult(checked)
