"""Transparency routes: "do not engage", spam hide requests and a lead's decision, the case dossier.

None of these routes deletes or changes a post; there is no route that could.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.service import Principal
from ventanilla.audit.service import record
from ventanilla.cases import dossier, guardrails
from ventanilla.cases import service as cases
from ventanilla.cases.models import Case
from ventanilla.ingest.models import Post
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _

router = APIRouter()
WorkPrincipal = Annotated[Principal, Depends(require_page("work_cases"))]
LeadPrincipal = Annotated[Principal, Depends(require_page("lead"))]
ExportPrincipal = Annotated[Principal, Depends(require_page("export"))]


def _back(case_id: int | None, error: str | None = None) -> RedirectResponse:
    target = f"/cases/{case_id}" if case_id else "/"
    return RedirectResponse(target + (f"?error={quote(error)}" if error else "") + "#care", status_code=303)


def _case(session: DbSession | DbReadSession, principal: Principal, case_id: int) -> Case:
    case = cases.get_case(session, workspace_id=principal.workspace_id, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail=_("No such case."))
    return case


def _post(session: DbSession, principal: Principal, post_id: int) -> Post:
    post = session.scalar(select(Post).where(Post.id == post_id, Post.workspace_id == principal.workspace_id))
    if post is None:
        raise HTTPException(status_code=404, detail=_("No such post."))
    return post


@router.post("/cases/{case_id}/do-not-engage", dependencies=[Depends(csrf_protect)])
def do_not_engage(case_id: int, session: DbSession, principal: WorkPrincipal,
                  reason: Annotated[str, Form()] = "", engage: Annotated[str, Form()] = "") -> Response:
    case = _case(session, principal, case_id)
    try:
        guardrails.set_do_not_engage(session, case=case, reason=reason, actor=principal.actor,
                                     engage=engage == "1")
        session.commit()
    except guardrails.GuardrailError as exc:
        return _back(case_id, str(exc))
    return _back(case_id)


@router.post("/posts/{post_id}/hide-request", dependencies=[Depends(csrf_protect)])
def hide_request(post_id: int, session: DbSession, principal: WorkPrincipal,
                 reason: Annotated[str, Form()] = "") -> Response:
    post = _post(session, principal, post_id)
    try:
        guardrails.request_hide_spam(session, post=post, reason=reason, actor=principal.actor)
        session.commit()
    except guardrails.GuardrailError as exc:
        return _back(post.case_id, str(exc))
    return _back(post.case_id)


@router.post("/posts/{post_id}/hide-decision", dependencies=[Depends(csrf_protect)])
def hide_decision(post_id: int, session: DbSession, principal: LeadPrincipal,
                  decision: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    post = _post(session, principal, post_id)
    if decision not in ("approve", "reject"):
        return _back(post.case_id, _("Choose approve or reject."))
    try:
        if decision == "approve":
            guardrails.approve_hide(session, post=post, lead=principal.actor, note=note)
        else:
            guardrails.reject_hide(session, post=post, lead=principal.actor, note=note)
        session.commit()
    except guardrails.GuardrailForbidden as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except guardrails.GuardrailError as exc:
        return _back(post.case_id, str(exc))
    return _back(post.case_id)


def _exported(session: DbSession, principal: Principal, case: Case, fmt: str) -> None:
    # Who took a copy of a customer's file is itself a step worth documenting.
    record(session, principal.actor, "case.dossier_exported", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, after={"format": fmt})
    session.commit()


@router.get("/cases/{case_id}/dossier.json")
def dossier_json(case_id: int, session: DbSession, principal: ExportPrincipal) -> Response:
    case = _case(session, principal, case_id)
    body = dossier.dossier_json(session, case=case)
    _exported(session, principal, case, "json")
    return Response(body, media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="case-{case.id}-dossier.json"'})


@router.get("/cases/{case_id}/dossier.pdf")
def dossier_pdf(case_id: int, session: DbSession, principal: ExportPrincipal) -> Response:
    case = _case(session, principal, case_id)
    body = dossier.dossier_pdf(session, case=case)
    _exported(session, principal, case, "pdf")
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="case-{case.id}-dossier.pdf"'})
