"""The inbox and the case view (HTML)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.models import Workspace
from ventanilla.accounts.service import Principal, members
from ventanilla.cases import service, workflow
from ventanilla.cases.guardrails import hidden_reasons
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.cases.workflow_models import Resolution
from ventanilla.ingest.channels import list_channels
from ventanilla.ingest.models import Author, Channel
from ventanilla.triage.service import correctable_values
from ventanilla.triage.taxonomy import REASON_CODES
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import render

router = APIRouter()
# Triage labels the inbox can filter on, with their values.
LABEL_FILTERS: dict[str, tuple[str, ...]] = {
    "complaint": ("yes", "no"),
    "sentiment": ("negative", "neutral", "positive"),
    "reason": REASON_CODES,
    "intent": ("wants_fix", "wants_heard", "question", "praise", "spam"),
    "offensive": ("yes", "no"),
}
# Spam a lead folded away: its cases are left out of the inbox unless asked for.
HIDDEN_FILTERS = ("only", "all")
ReadPrincipal = Annotated[Principal, Depends(require_page("read_inbox"))]
WorkPrincipal = Annotated[Principal, Depends(require_page("work_cases"))]


def _timezone(request: Request, session: DbReadSession | DbSession, principal: Principal) -> str:
    tz = session.scalar(select(Workspace.timezone).where(Workspace.id == principal.workspace_id)) or "UTC"
    request.state.workspace_tz = tz
    return tz


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@router.get("/")
def inbox_page(
    request: Request, session: DbReadSession, principal: ReadPrincipal,
    status: str = "active", channel: str | None = None, language: str | None = None,
    priority: str | None = None, assignee: str | None = None, q: str | None = None,
    sort: str = "priority", page: int = 1, hidden: str | None = None,
) -> Response:
    _timezone(request, session, principal)
    labels = {name: request.query_params[name] for name in LABEL_FILTERS
              if request.query_params.get(name) in LABEL_FILTERS[name]}
    filters = service.InboxFilter(
        label=labels,
        status=status or None, channel_id=_int_or_none(channel), language=language or None,
        priority=_int_or_none(priority), assignee=assignee or None, q=(q or "").strip()[:200] or None,
        sort=sort, page=max(1, page), hidden=hidden if hidden in HIDDEN_FILTERS else None,
    )
    result = service.inbox(session, workspace_id=principal.workspace_id, user_id=principal.user_id,
                           filters=filters)
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(request, "inbox.html", {
        "page": result, "filters": filters, "query": query,
        "channels": list_channels(session, workspace_id=principal.workspace_id),
        "members": members(session, workspace_id=principal.workspace_id),
        "statuses": ["active", *[s.value for s in CaseStatus], ""],
        "label_filters": LABEL_FILTERS,
    })


def _case_or_404(session: DbReadSession | DbSession, principal: Principal, case_id: int) -> Case:
    case = service.get_case(session, workspace_id=principal.workspace_id, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail=_("No such case."))
    return case


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, session: DbReadSession, principal: ReadPrincipal) -> Response:
    _timezone(request, session, principal)
    case = _case_or_404(session, principal, case_id)
    author = session.get(Author, case.author_id)
    channel = session.get(Channel, case.channel_id)
    posts = service.conversation(session, case=case)
    return render(request, "case.html", {
        "case": case, "author": author, "channel": channel, "posts": posts,
        "history": service.author_history(session, case=case),
        "timeline": service.timeline(session, case=case),
        "notes": service.notes(session, case=case),
        "members": [(u, m) for u, m in members(session, workspace_id=principal.workspace_id)
                    if m.role in ("admin", "lead", "agent")],
        "transitions": sorted(s.value for s in service.TRANSITIONS[CaseStatus(case.status)]),
        "corrections": correctable_values(),
        "hidden": hidden_reasons(session, post_ids=[p.id for p in posts]),
        "checklist": workflow.checklist(session, case=case),
        "handoffs": workflow.handoffs(session, case=case),
        "resolution": session.scalar(select(Resolution).where(Resolution.case_id == case.id)),
        "conflict": request.query_params.get("conflict"),
        "error": request.query_params.get("error"),
    })


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/cases/{case_id}/assign", dependencies=[Depends(csrf_protect)])
def assign_case(
    request: Request, case_id: int, session: DbSession, principal: WorkPrincipal,
    assignee: Annotated[str, Form()] = "me", version: Annotated[str, Form()] = "",
) -> Response:
    case = _case_or_404(session, principal, case_id)
    target = principal.user_id if assignee == "me" else _int_or_none(assignee)
    try:
        service.assign(session, case=case, assignee_id=target, actor=principal.actor,
                       expected_version=_int_or_none(version))
        session.commit()
    except service.CaseConflict as exc:
        holder = exc.holder or _("someone else")
        if _wants_json(request):
            return JSONResponse({"ok": False, "holder": holder}, status_code=409)
        return RedirectResponse(f"/cases/{case_id}?conflict={holder}", status_code=303)
    except service.CaseError as exc:
        if _wants_json(request):
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=422)
        return RedirectResponse(f"/cases/{case_id}?error={exc}", status_code=303)
    if _wants_json(request):
        return JSONResponse({"ok": True, "assignee_id": case.assignee_id, "version": case.version})
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/status", dependencies=[Depends(csrf_protect)])
def change_status(
    case_id: int, session: DbSession, principal: WorkPrincipal, status: Annotated[str, Form()],
) -> Response:
    case = _case_or_404(session, principal, case_id)
    try:
        service.set_status(session, case=case, status=CaseStatus(status), actor=principal.actor)
        session.commit()
    except (ValueError, service.CaseError) as exc:
        return RedirectResponse(f"/cases/{case_id}?error={exc}", status_code=303)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/notes", dependencies=[Depends(csrf_protect)])
def add_note(
    case_id: int, session: DbSession, principal: WorkPrincipal, body: Annotated[str, Form()] = "",
) -> Response:
    case = _case_or_404(session, principal, case_id)
    try:
        service.add_note(session, case=case, user_id=principal.user_id, body=body, actor=principal.actor)
        session.commit()
    except service.CaseError as exc:
        return RedirectResponse(f"/cases/{case_id}?error={exc}", status_code=303)
    return RedirectResponse(f"/cases/{case_id}#timeline", status_code=303)
