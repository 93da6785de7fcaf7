"""The improvement backlog pages: leads and analysts read it, leads change it; agents send notices."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.models import Workspace
from ventanilla.accounts.service import Principal, members
from ventanilla.cases import service as cases
from ventanilla.cases.models import Case
from ventanilla.improvements import service
from ventanilla.improvements.models import Improvement, ImprovementNotice, ImprovementState
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import render

router = APIRouter()
ViewPrincipal = Annotated[Principal, Depends(require_page("export"))]  # admin, lead, analyst
LeadPrincipal = Annotated[Principal, Depends(require_page("lead"))]
WorkPrincipal = Annotated[Principal, Depends(require_page("work_cases"))]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _redirect(path: str, error: str | None = None) -> RedirectResponse:
    return RedirectResponse(path + (f"?error={quote(error)}" if error else ""), status_code=303)


def _timezone(request: Request, session: DbReadSession | DbSession, principal: Principal) -> None:
    request.state.workspace_tz = session.scalar(
        select(Workspace.timezone).where(Workspace.id == principal.workspace_id)) or "UTC"


def _improvement(session: DbReadSession | DbSession, principal: Principal, improvement_id: int) -> Improvement:
    improvement = service.get_improvement(session, workspace_id=principal.workspace_id,
                                          improvement_id=improvement_id)
    if improvement is None:
        raise HTTPException(status_code=404, detail=_("No such improvement."))
    return improvement


def _case(session: DbSession, principal: Principal, case_id: int | None) -> Case:
    case = cases.get_case(session, workspace_id=principal.workspace_id, case_id=case_id) if case_id else None
    if case is None:
        raise HTTPException(status_code=404, detail=_("No such case."))
    return case


def _staff(session: DbReadSession | DbSession, principal: Principal) -> list[tuple[int, str]]:
    return [(u.id, u.name) for u, m in members(session, workspace_id=principal.workspace_id)
            if m.role in ("admin", "lead", "agent", "analyst")]


@router.get("/improvements")
def backlog_page(request: Request, session: DbReadSession, principal: ViewPrincipal,
                 state: str | None = None, case_id: str | None = None) -> Response:
    _timezone(request, session, principal)
    state = state if state in {s.value for s in ImprovementState} else None
    from_case = _int(case_id)
    return render(request, "improvements/list.html", {
        "rows": service.backlog(session, workspace_id=principal.workspace_id, state=state),
        "state": state, "states": [s.value for s in ImprovementState], "staff": _staff(session, principal),
        "from_case": from_case, "error": request.query_params.get("error"),
    })


@router.post("/improvements", dependencies=[Depends(csrf_protect)])
def create(session: DbSession, principal: LeadPrincipal, title: Annotated[str, Form()] = "",
           description: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
           case_id: Annotated[str, Form()] = "", note_es: Annotated[str, Form()] = "",
           note_en: Annotated[str, Form()] = "") -> Response:
    from_case = _case(session, principal, _int(case_id)) if _int(case_id) else None
    try:
        improvement = service.create_improvement(
            session, workspace_id=principal.workspace_id, title=title, description=description,
            owner_id=_int(owner), from_case=from_case, actor=principal.actor, note_es=note_es, note_en=note_en)
        session.commit()
    except service.ImprovementError as exc:
        return _redirect("/improvements", str(exc))
    return _redirect(f"/improvements/{improvement.id}")


@router.post("/improvements/link", dependencies=[Depends(csrf_protect)])
def link_from_case(session: DbSession, principal: LeadPrincipal, improvement_id: Annotated[str, Form()] = "",
                   case_id: Annotated[str, Form()] = "") -> Response:
    case = _case(session, principal, _int(case_id))
    improvement = _improvement(session, principal, _int(improvement_id) or 0)
    try:
        service.link_case(session, improvement=improvement, case=case, actor=principal.actor)
        session.commit()
    except service.ImprovementError as exc:
        return _redirect(f"/cases/{case.id}", str(exc))
    return RedirectResponse(f"/cases/{case.id}#care", status_code=303)


@router.get("/improvements/{improvement_id}")
def improvement_page(request: Request, improvement_id: int, session: DbReadSession,
                     principal: ViewPrincipal) -> Response:
    _timezone(request, session, principal)
    improvement = _improvement(session, principal, improvement_id)
    current = ImprovementState(improvement.state)
    return render(request, "improvements/detail.html", {
        "improvement": improvement, "linked": service.linked_cases(session, improvement=improvement),
        "next_states": sorted(s.value for s in service.TRANSITIONS[current]),
        "staff": _staff(session, principal), "error": request.query_params.get("error"),
    })


@router.post("/improvements/{improvement_id}", dependencies=[Depends(csrf_protect)])
def update(improvement_id: int, session: DbSession, principal: LeadPrincipal,
           title: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
           owner: Annotated[str, Form()] = "", note_es: Annotated[str, Form()] = "",
           note_en: Annotated[str, Form()] = "") -> Response:
    improvement = _improvement(session, principal, improvement_id)
    try:
        service.update_improvement(session, improvement=improvement, actor=principal.actor, title=title,
                                   description=description, owner_id=_int(owner), note_es=note_es,
                                   note_en=note_en)
        session.commit()
    except service.ImprovementError as exc:
        return _redirect(f"/improvements/{improvement_id}", str(exc))
    return _redirect(f"/improvements/{improvement_id}")


@router.post("/improvements/{improvement_id}/state", dependencies=[Depends(csrf_protect)])
def change_state(improvement_id: int, session: DbSession, principal: LeadPrincipal,
                 state: Annotated[str, Form()] = "") -> Response:
    improvement = _improvement(session, principal, improvement_id)
    try:
        service.set_state(session, improvement=improvement, state=ImprovementState(state), actor=principal.actor)
        session.commit()
    except (ValueError, service.ImprovementError) as exc:
        return _redirect(f"/improvements/{improvement_id}", str(exc))
    return _redirect(f"/improvements/{improvement_id}")


@router.post("/improvements/{improvement_id}/cases", dependencies=[Depends(csrf_protect)])
def link(improvement_id: int, session: DbSession, principal: LeadPrincipal,
         case_id: Annotated[str, Form()] = "") -> Response:
    improvement = _improvement(session, principal, improvement_id)
    case_number = _int(case_id.lstrip("#"))
    case = cases.get_case(session, workspace_id=principal.workspace_id, case_id=case_number) if case_number else None
    if case is None:
        return _redirect(f"/improvements/{improvement_id}", _("No such case."))
    service.link_case(session, improvement=improvement, case=case, actor=principal.actor)
    session.commit()
    return _redirect(f"/improvements/{improvement_id}")


@router.post("/improvements/{improvement_id}/cases/{case_id}/unlink", dependencies=[Depends(csrf_protect)])
def unlink(improvement_id: int, case_id: int, session: DbSession, principal: LeadPrincipal) -> Response:
    improvement = _improvement(session, principal, improvement_id)
    case = _case(session, principal, case_id)
    service.unlink_case(session, improvement=improvement, case=case, actor=principal.actor)
    session.commit()
    return _redirect(f"/improvements/{improvement_id}")


@router.post("/notices/{notice_id}/sent", dependencies=[Depends(csrf_protect)])
def notice_sent(notice_id: int, session: DbSession, principal: WorkPrincipal) -> Response:
    notice = session.scalar(select(ImprovementNotice).join(Case, Case.id == ImprovementNotice.case_id)
                            .where(ImprovementNotice.id == notice_id, Case.workspace_id == principal.workspace_id))
    if notice is None:
        raise HTTPException(status_code=404, detail=_("No such notice."))
    try:
        service.mark_notice_sent(session, notice=notice, actor=principal.actor)
        session.commit()
    except service.ImprovementError as exc:
        return _redirect(f"/cases/{notice.case_id}", str(exc))
    return RedirectResponse(f"/cases/{notice.case_id}#care", status_code=303)
