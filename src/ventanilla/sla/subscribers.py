"""The SLA clocks react to what happens on cases (domain events, in the case's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ventanilla.events import on
from ventanilla.sla import service


@on("case.opened")
def case_opened(session: Session, *, case_ids: Sequence[int], **_: Any) -> None:
    """Start each new case's clocks under the first matching policy."""
    service.start_clocks(session, list(case_ids))


@on("case.post_added")
def customer_wrote(session: Session, *, case_ids: Sequence[int], **_: Any) -> None:
    """The customer wrote again after our reply: the next-response clock starts."""
    service.on_customer_wrote(session, case_ids=list(case_ids))


@on("case.status_changed")
def status_changed(session: Session, *, case_id: int, before: str, after: str, **_: Any) -> None:
    """Waiting on the customer pauses the clocks; resolving stops them; reopening resumes them."""
    service.on_status_changed(session, case_id=case_id, before=before, after=after)


@on("case.replied")
def replied(session: Session, *, case_id: int, at: datetime, **_: Any) -> None:
    """Any reply, public or private, meets the first (or the running next) response."""
    service.on_replied(session, case_id=case_id, at=at)
