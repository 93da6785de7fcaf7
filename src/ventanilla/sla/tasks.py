"""Background work of the SLA domain: the periodic recomputation, then alert delivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ventanilla.db import utcnow
from ventanilla.sla.alerts import deliver_pending_alerts
from ventanilla.sla.service import recompute_open_cases
from ventanilla.workers.queue import task

RECOMPUTE = "sla.recompute"


@task(RECOMPUTE)
def recompute(session: Session, payload: dict[str, Any]) -> None:
    """Refresh every running clock and raise alerts (committed), then send what is pending."""
    workspace_id = payload.get("workspace_id")
    recompute_open_cases(session, utcnow(), workspace_id=int(workspace_id) if workspace_id else None)
    session.commit()
    if payload.get("deliver", True):
        deliver_pending_alerts(session.get_bind())  # type: ignore[arg-type]
