"""Background work for follow-ups: run it every few minutes (cron, or a Celery beat)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ventanilla.followups.service import run_due_followups
from ventanilla.workers.queue import task


@task("followups.run")
def run(session: Session, payload: dict[str, Any]) -> None:
    """Prepare (or e-mail) every due satisfaction check; ``payload["base_url"]`` overrides the link's host."""
    run_due_followups(session, base_url=payload.get("base_url") or None)
