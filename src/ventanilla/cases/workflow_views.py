"""HTML routes for the playbook checklist, hand-offs, resolutions, approvals and routing rules."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.models import Team
from ventanilla.accounts.service import Principal
from ventanilla.cases import routing, workflow
from ventanilla.cases.models import Case
from ventanilla.cases.service import CaseError, get_case
from ventanilla.cases.workflow_models import RoutingRule
from ventanilla.ingest.channels import list_channels
from ventanilla.triage.taxonomy import REASON_CODES
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.templating import render

router = APIRouter()
Worker = Annotated[Principal, Depends(require_page("work_cases"))]
Lead = Annotated[Principal, Depends(require_page("lead"))]


def _case(session: DbSession, principal: Principal, case_id: int) -> Case:
    case = get_case(session, workspace_id=principal.workspace_id, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail="no such case")
    return case


def _back(case_id: int, error: str | None = None) -> RedirectResponse:
    suffix = f"?error={quote(error)}" if error else ""
    return RedirectResponse(f"/cases/{case_id}{suffix}#workflow", status_code=303)


@router.post("/cases/{case_id}/checklist", dependencies=[Depends(csrf_protect)])
def tick_step(case_id: int, session: DbSession, principal: Worker, step: Annotated[str, Form()],
              done: Annotated[str, Form()] = "1") -> Response:
    case = _case(session, principal, case_id)
    try:
        if done == "1":
            workflow.tick(session, case_id=case.id, step=step, actor=principal.actor)
        else:
            workflow.untick(session, case_id=case.id, step=step, actor=principal.actor)
        session.commit()
    except CaseError as exc:
        return _back(case_id, str(exc))
    return _back(case_id)


@router.post("/cases/{case_id}/handoff", dependencies=[Depends(csrf_protect)])
def hand_off(case_id: int, session: DbSession, principal: Worker, via: Annotated[str, Form()],
             summary: Annotated[str, Form()] = "") -> Response:
    case = _case(session, principal, case_id)
    try:
        workflow.hand_off(session, case=case, via=via, summary=summary, principal=principal)
        session.commit()
    except CaseError as exc:
        return _back(case_id, str(exc))
    return _back(case_id)


@router.post("/cases/{case_id}/resolve", dependencies=[Depends(csrf_protect)])
def resolve(
    case_id: int, session: DbSession, principal: Worker,
    outcome: Annotated[str, Form()] = "", classification: Annotated[str, Form()] = "justified",
    root_cause: Annotated[str, Form()] = "", goodwill_kind: Annotated[str, Form()] = "",
    goodwill_value: Annotated[str, Form()] = "", currency: Annotated[str, Form()] = "EUR",
) -> Response:
    case = _case(session, principal, case_id)
    try:
        workflow.resolve(session, case=case, principal=principal, outcome=outcome, classification=classification,
                         root_cause=root_cause, goodwill_kind=goodwill_kind or None,
                         goodwill_value=goodwill_value or None, currency=currency)
        session.commit()
    except CaseError as exc:
        session.rollback()
        return _back(case_id, str(exc))
    return _back(case_id)


@router.post("/cases/{case_id}/approval", dependencies=[Depends(csrf_protect)])
def review(case_id: int, session: DbSession, principal: Lead, decision: Annotated[str, Form()],
           comment: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "") -> Response:
    case = _case(session, principal, case_id)
    try:
        workflow.review(session, case=case, principal=principal, approve=decision == "approve", comment=comment)
        session.commit()
    except CaseError as exc:
        return _back(case_id, str(exc))
    return RedirectResponse("/goodwill" if back == "list" else f"/cases/{case_id}#workflow", status_code=303)


@router.get("/goodwill")
def goodwill_page(request: Request, session: DbReadSession, principal: Lead) -> Response:
    return render(request, "goodwill.html",
                  {"pending": workflow.pending_approvals(session, workspace_id=principal.workspace_id)})


@router.get("/admin/routing")
def routing_page(request: Request, session: DbReadSession, principal: Lead) -> Response:
    teams = list(session.scalars(select(Team).where(Team.workspace_id == principal.workspace_id)))
    return render(request, "routing.html", {
        "rules": routing.rules(session, workspace_id=principal.workspace_id), "teams": teams,
        "team_names": {t.id: t.name for t in teams}, "reasons": REASON_CODES,
        "channels": list_channels(session, workspace_id=principal.workspace_id),
        "error": request.query_params.get("error")})


@router.post("/admin/routing", dependencies=[Depends(csrf_protect)])
def add_rule(
    session: DbSession, principal: Lead, name: Annotated[str, Form()], team_id: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "",
    channel_id: Annotated[str, Form()] = "", priority_max: Annotated[str, Form()] = "",
    min_followers: Annotated[str, Form()] = "", auto_assign: Annotated[str, Form()] = "",
) -> Response:
    conditions: dict[str, object] = {"reason": reason, "language": language}
    for key, raw in (("channel_id", channel_id), ("priority_max", priority_max), ("min_followers", min_followers)):
        if raw.strip():
            if not raw.strip().isdigit():
                return RedirectResponse(f"/admin/routing?error={quote(key + ' must be a whole number')}",
                                        status_code=303)
            conditions[key] = int(raw)
    try:
        routing.add_rule(session, workspace_id=principal.workspace_id, name=name, team_id=team_id,
                         conditions=conditions, auto_assign=auto_assign == "1", actor=principal.actor)
        session.commit()
    except routing.RoutingError as exc:
        return RedirectResponse(f"/admin/routing?error={quote(str(exc))}", status_code=303)
    return RedirectResponse("/admin/routing", status_code=303)


@router.post("/admin/routing/{rule_id}", dependencies=[Depends(csrf_protect)])
def change_rule(rule_id: int, session: DbSession, principal: Lead, action: Annotated[str, Form()]) -> Response:
    rule = session.scalar(select(RoutingRule).where(RoutingRule.id == rule_id,
                                                    RoutingRule.workspace_id == principal.workspace_id))
    if rule is None:
        raise HTTPException(status_code=404, detail="no such rule")
    if action in ("up", "down"):
        routing.move_rule(session, rule=rule, offset=-1 if action == "up" else 1, actor=principal.actor)
    elif action == "disable":
        routing.remove_rule(session, rule=rule, actor=principal.actor)
    session.commit()
    return RedirectResponse("/admin/routing", status_code=303)
