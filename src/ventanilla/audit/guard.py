"""The application's own refusal to change or delete audit events (the database refuses too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ventanilla.audit.models import AuditEvent


class AuditImmutableError(RuntimeError):
    """Raised when code tries to update or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditImmutableError("audit events are append-only")
