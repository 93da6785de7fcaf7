"""Follow-ups react to cases: resolving schedules the satisfaction check, reopening cancels it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ventanilla.audit.service import SYSTEM, Actor
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.events import on
from ventanilla.followups.service import expire_pending, schedule_followup


@on("case.status_changed")
def on_status_changed(session: Session, *, case_id: int, before: str, after: str, actor: Actor | None = None,
                      **_: Any) -> None:
    case = session.get(Case, case_id)
    if case is None:
        return
    if after == CaseStatus.resolved.value:
        schedule_followup(session, case=case, actor=actor or SYSTEM)
    elif after in (CaseStatus.open.value, CaseStatus.waiting.value, CaseStatus.new.value):
        expire_pending(session, case=case, actor=actor or SYSTEM)
