"""The complaint playbook on a case: its checklist, the private hand-off, and the resolution
with goodwill offered within each role's authority (above it, a lead approves)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Role, Workspace
from ventanilla.accounts.service import Principal
from ventanilla.audit.service import SYSTEM, Actor, record
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.cases.service import CaseError, set_status
from ventanilla.cases.workflow_models import ChecklistStep, Handoff, Resolution
from ventanilla.db import utcnow
from ventanilla.events import on

# The seeds' advice, in order. Each step's id is stable; its label is translated in the UI.
PLAYBOOK = ("thank", "listen", "apologise", "ask_open_questions", "promise_solution",
            "request_data_privately", "fix", "check_satisfaction", "offer_more")
CLASSIFICATIONS = ("justified", "unjustified", "abusive")
GOODWILL_KINDS = ("refund", "voucher", "discount", "gift", "other")
HANDOFF_CHANNELS = ("direct_message", "email", "phone")
DEFAULT_AUTHORITY = {"agent": Decimal("50"), "lead": Decimal("500")}  # admin: no limit


def checklist(session: Session, *, case: Case) -> dict[str, ChecklistStep | None]:
    """Every playbook step with its tick (None when not done yet)."""
    done = {s.step: s for s in session.scalars(select(ChecklistStep).where(ChecklistStep.case_id == case.id))}
    return {step: done.get(step) for step in PLAYBOOK}


def tick(session: Session, *, case_id: int, step: str, actor: Actor, automatic: bool = False) -> bool:
    """Tick a step once; False when it was already ticked."""
    if step not in PLAYBOOK:
        raise CaseError(f"unknown playbook step {step!r}")
    if session.scalar(select(ChecklistStep.id).where(ChecklistStep.case_id == case_id,
                                                     ChecklistStep.step == step)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ChecklistStep(case_id=case_id, step=step, done_by=actor.name, automatic=automatic))
    except IntegrityError:
        return False  # ticked at the same moment by someone else
    record(session, actor, "case.step_done", target_type="case", target_id=case_id,
           after={"step": step, "automatic": automatic})
    return True


def untick(session: Session, *, case_id: int, step: str, actor: Actor) -> None:
    """Clear a step ticked by mistake (audited; the earlier tick stays in the timeline)."""
    row = session.scalar(select(ChecklistStep).where(ChecklistStep.case_id == case_id, ChecklistStep.step == step))
    if row is not None:
        session.delete(row)
        record(session, actor, "case.step_undone", target_type="case", target_id=case_id, after={"step": step})


def hand_off(session: Session, *, case: Case, via: str, summary: str, principal: Principal) -> Handoff:
    """Move the conversation to a private channel (or log a phone call); the public thread stays."""
    if via not in HANDOFF_CHANNELS:
        raise CaseError(f"hand-off channel must be one of: {', '.join(HANDOFF_CHANNELS)}")
    if via == "phone" and not summary.strip():
        raise CaseError("a phone call needs a summary")
    handoff = Handoff(case_id=case.id, via=via, summary=summary.strip()[:10_000], user_id=principal.user_id)
    session.add(handoff)
    session.flush()
    record(session, principal.actor, "case.handed_off", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, after={"via": via, "summary": summary.strip()[:500]})
    tick(session, case_id=case.id, step="request_data_privately", actor=principal.actor, automatic=True)
    return handoff


def handoffs(session: Session, *, case: Case) -> list[Handoff]:
    """The case's hand-offs, oldest first."""
    return list(session.scalars(select(Handoff).where(Handoff.case_id == case.id).order_by(Handoff.id)))


def authority_limit(session: Session, *, workspace_id: int, role: Role) -> Decimal | None:
    """The most goodwill ``role`` may offer alone (None: no limit)."""
    if role == Role.admin:
        return None
    settings: dict[str, Any] = session.scalar(select(Workspace.settings).where(Workspace.id == workspace_id)) or {}
    limits = settings.get("authority_limits") or {}
    value = limits.get(role.value, DEFAULT_AUTHORITY.get(role.value, Decimal("0")))
    return Decimal(str(value))


def _money(value: str | None) -> Decimal | None:
    if value is None or not str(value).strip():
        return None
    try:
        amount = Decimal(str(value).replace(",", "."))
    except InvalidOperation as exc:
        raise CaseError(f"{value!r} is not an amount") from exc
    if amount < 0 or amount > Decimal("1000000"):
        raise CaseError("the goodwill amount must be between 0 and 1,000,000")
    return amount.quantize(Decimal("0.01"))


def resolve(session: Session, *, case: Case, principal: Principal, outcome: str, classification: str,
            root_cause: str | None = None, goodwill_kind: str | None = None, goodwill_value: str | None = None,
            currency: str = "EUR") -> Resolution:
    """Record how the case ends. Within the role's authority it resolves now; above it the
    resolution waits for a lead's approval and the case stays open."""
    if classification not in CLASSIFICATIONS:
        raise CaseError(f"classification must be one of: {', '.join(CLASSIFICATIONS)}")
    if not outcome.strip():
        raise CaseError("say what the outcome was")
    amount = _money(goodwill_value)
    if amount is not None and goodwill_kind not in GOODWILL_KINDS:
        raise CaseError(f"goodwill kind must be one of: {', '.join(GOODWILL_KINDS)}")
    if session.scalar(select(Resolution.id).where(Resolution.case_id == case.id,
                                                  Resolution.approval == "pending")) is not None:
        raise CaseError("a resolution for this case is already waiting for approval")
    limit = authority_limit(session, workspace_id=case.workspace_id, role=principal.role)
    needs_approval = amount is not None and limit is not None and amount > limit
    existing = session.scalar(select(Resolution).where(Resolution.case_id == case.id))
    resolution = existing or Resolution(case_id=case.id, requested_by=principal.user_id)
    resolution.outcome = outcome.strip()[:10_000]
    resolution.classification = classification
    resolution.root_cause = (root_cause or "").strip()[:200] or None
    resolution.goodwill_kind = goodwill_kind if amount is not None else None
    resolution.goodwill_value = amount
    resolution.currency = currency.upper()[:3] if amount is not None else None
    resolution.requested_by = principal.user_id
    resolution.approval = "pending" if needs_approval else "none"
    resolution.reviewed_by = None
    resolution.review_comment = None
    if existing is None:
        session.add(resolution)
    session.flush()
    detail = {"classification": classification, "root_cause": resolution.root_cause,
              "goodwill": f"{amount} {resolution.currency} {goodwill_kind}" if amount is not None else None}
    if needs_approval:
        record(session, principal.actor, "case.approval_requested", target_type="case", target_id=case.id,
               workspace_id=case.workspace_id, after={**detail, "limit": str(limit)})
        return resolution
    record(session, principal.actor, "case.resolution_recorded", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, after=detail)
    _finish(session, case, principal.actor, amount)
    return resolution


def _finish(session: Session, case: Case, actor: Actor, amount: Decimal | None) -> None:
    if case.status != CaseStatus.resolved.value:
        set_status(session, case=case, status=CaseStatus.resolved, actor=actor)
    if amount is not None:
        tick(session, case_id=case.id, step="offer_more", actor=actor, automatic=True)


def review(session: Session, *, case: Case, principal: Principal, approve: bool, comment: str) -> Resolution:
    """A lead approves or rejects a pending resolution, with a comment."""
    if not principal.can("lead"):
        raise CaseError("only a lead can approve goodwill above an agent's authority")
    resolution = session.scalar(select(Resolution).where(Resolution.case_id == case.id,
                                                         Resolution.approval == "pending"))
    if resolution is None:
        raise CaseError("nothing is waiting for approval on this case")
    limit = authority_limit(session, workspace_id=case.workspace_id, role=principal.role)
    if approve and limit is not None and resolution.goodwill_value is not None and resolution.goodwill_value > limit:
        raise CaseError("this amount is above your own authority too; an admin must approve it")
    resolution.approval = "approved" if approve else "rejected"
    resolution.reviewed_by = principal.user_id
    resolution.review_comment = comment.strip()[:5000] or None
    resolution.reviewed_at = utcnow()
    record(session, principal.actor, "case.approval_" + ("granted" if approve else "refused"), target_type="case",
           target_id=case.id, workspace_id=case.workspace_id, after={"comment": resolution.review_comment})
    if approve:
        _finish(session, case, principal.actor, resolution.goodwill_value)
    return resolution


def pending_approvals(session: Session, *, workspace_id: int) -> list[tuple[Resolution, Case]]:
    """Resolutions waiting for a lead, oldest first."""
    rows = session.execute(select(Resolution, Case).join(Case, Case.id == Resolution.case_id)
                           .where(Case.workspace_id == workspace_id, Resolution.approval == "pending")
                           .order_by(Resolution.id)).all()
    return [(r, c) for r, c in rows]


@on("case.replied")
def _tick_on_reply(session: Session, *, case_id: int, public: bool, **_: Any) -> None:
    # A reply that went out thanked and listened (the linter holds replies to that standard).
    for step in ("thank", "listen", "apologise"):
        tick(session, case_id=case_id, step=step, actor=SYSTEM, automatic=True)
    if not public:
        tick(session, case_id=case_id, step="request_data_privately", actor=SYSTEM, automatic=True)


@on("case.status_changed")
def _tick_on_resolution(session: Session, *, case_id: int, after: str, **_: Any) -> None:
    if after == CaseStatus.resolved.value:
        tick(session, case_id=case_id, step="fix", actor=SYSTEM, automatic=True)
