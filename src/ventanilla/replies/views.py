"""Replies in the browser: the case's reply panel (live lint), the approvals page and the
template library (HTML, HTMX fragments)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select

from ventanilla.accounts.models import User, Workspace
from ventanilla.accounts.service import Principal
from ventanilla.cases.models import Case
from ventanilla.cases.service import get_case
from ventanilla.ingest.models import Channel
from ventanilla.replies import outbox, service
from ventanilla.replies.draft_context import LANGUAGES
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.models import Reply, ReplyStatus
from ventanilla.replies.template_values import TEMPLATE_VARIABLES
from ventanilla.replies.templating import TemplateError
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import render

router = APIRouter()
WorkPrincipal = Annotated[Principal, Depends(require_page("work_cases"))]
LeadPrincipal = Annotated[Principal, Depends(require_page("lead"))]
CONTEXT_CHARS = 40  # characters shown either side of an offending span


def _timezone(request: Request, session: DbReadSession | DbSession, principal: Principal) -> None:
    tz = session.scalar(select(Workspace.timezone).where(Workspace.id == principal.workspace_id)) or "UTC"
    request.state.workspace_tz = tz


def _case_or_404(session: DbReadSession | DbSession, principal: Principal, case_id: int) -> Case:
    case = get_case(session, workspace_id=principal.workspace_id, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail=_("No such case."))
    return case


def _reply_or_404(session: DbReadSession | DbSession, principal: Principal, reply_id: int) -> Reply:
    reply = service.get_reply(session, workspace_id=principal.workspace_id, reply_id=reply_id)
    if reply is None:
        raise HTTPException(status_code=404, detail=_("No such reply."))
    return reply


@dataclass(slots=True)
class ShownFinding:
    """A finding as the panel shows it: the offending span in its context, highlighted."""

    rule: str
    severity: str
    message: str
    suggestion: str
    excerpt: Markup
    whole: bool


def show_findings(text: str, findings: list[Finding] | list[dict[str, object]]) -> list[ShownFinding]:
    """Findings with an escaped excerpt of the reply where the offending span is in <mark>."""
    shown = []
    for item in findings:
        f = item.as_dict() if isinstance(item, Finding) else item
        start, end = int(str(f["start"])), int(str(f["end"]))
        whole = start == 0 and end >= len(text)
        if whole:
            excerpt = Markup("")
        else:
            left = max(0, start - CONTEXT_CHARS)
            right = min(len(text), end + CONTEXT_CHARS)
            excerpt = (Markup("…" if left else "") + escape(text[left:start])
                       + Markup('<mark class="finding-span">') + escape(text[start:end]) + Markup("</mark>")
                       + escape(text[end:right]) + Markup("…" if right < len(text) else ""))
        shown.append(ShownFinding(str(f["rule"]), str(f["severity"]), str(f["message"]), str(f["suggestion"]),
                                  excerpt, whole))
    return shown


def reason_labels(reasons: list[str]) -> list[str]:
    """The approval reasons in the reader's language."""
    labels = []
    for reason in reasons:
        if reason.startswith(service.HIGH_FINDING + ":"):
            labels.append(_("High-severity finding: %(rule)s") % {"rule": reason.split(":", 1)[1]})
        elif reason == service.GOODWILL:
            labels.append(_("Goodwill above the author's authority"))
        elif reason == service.CRISIS_MODE:
            labels.append(_("Crisis mode: every public reply is approved by a lead"))
        else:
            labels.append(reason)
    return labels


# -- the case's reply panel --------------------------------------------------------------------


@router.get("/cases/{case_id}/replies/panel")
def reply_panel(request: Request, case_id: int, session: DbReadSession, principal: WorkPrincipal) -> Response:
    """The reply panel's content (the case page loads it with HTMX)."""
    _timezone(request, session, principal)
    case = _case_or_404(session, principal, case_id)
    channel = session.get(Channel, case.channel_id)
    assert channel is not None
    public_draft = service.draft_for_case(session, case=case, user_id=principal.user_id,
                                          stage="first_public", public=True) if channel.is_public else None
    private_draft = service.draft_for_case(session, case=case, user_id=principal.user_id,
                                           stage="private_followup", public=False)
    replies = service.replies_for_case(session, case=case)
    names = dict(session.execute(select(User.id, User.name).where(
        User.id.in_({r.author_id for r in replies} | {r.reviewer_id for r in replies if r.reviewer_id}))).all())
    language = service.customer_language(session, case=case)
    workspace = session.get(Workspace, case.workspace_id)
    return render(request, "replies/panel_body.html", {
        "case": case, "channel": channel,
        "public_draft": public_draft, "private_draft": private_draft,
        "replies": replies, "names": names, "reason_labels": reason_labels,
        "macros": [m for m in service.saved_replies(session, workspace_id=case.workspace_id, language=language)
                   if m.shortcut],
        "crisis": bool(workspace and service.in_crisis_mode(workspace)),
    })


@router.post("/cases/{case_id}/replies/lint", dependencies=[Depends(csrf_protect)])
def lint_fragment(request: Request, case_id: int, session: DbReadSession, principal: WorkPrincipal,
                  text: Annotated[str, Form()] = "", public: Annotated[str, Form()] = "1",
                  lint_public: Annotated[str, Form()] = "") -> Response:
    """The live lint findings for the text in the reply box (an HTML fragment)."""
    case = _case_or_404(session, principal, case_id)
    text = text[: service.MAX_REPLY_CHARS]
    is_public = (lint_public or public) not in ("0", "false", "")
    findings = service.lint_for_case(session, case=case, text=text, public=is_public) if text.strip() else []
    return render(request, "replies/findings.html", {
        "findings": show_findings(text, findings),
        "needs_approval": any(f.severity == "high" for f in findings),
    })


@router.post("/cases/{case_id}/replies", dependencies=[Depends(csrf_protect)])
def send_reply(case_id: int, session: DbSession, principal: WorkPrincipal,
               text: Annotated[str, Form()] = "", public: Annotated[str, Form()] = "1",
               offer_amount: Annotated[str, Form()] = "") -> Response:
    """Submit the reply: queued and sent now when nothing holds it, else held for a lead."""
    case = _case_or_404(session, principal, case_id)
    try:
        reply = service.submit_reply(session, case=case, text=text, actor=principal,
                                     public=public not in ("0", "false", ""), offer_amount=offer_amount)
        session.commit()
    except service.ReplyError as exc:
        session.rollback()
        from urllib.parse import quote

        return RedirectResponse(f"/cases/{case_id}?error={quote(str(exc))}#replies", status_code=303)
    if reply.status == ReplyStatus.queued.value:
        outbox.dispatch(reply.id)
    return RedirectResponse(f"/cases/{case_id}#replies", status_code=303)


@router.post("/replies/{reply_id}/resend", dependencies=[Depends(csrf_protect)])
def resend_reply(reply_id: int, session: DbSession, principal: WorkPrincipal) -> Response:
    """Queue a failed reply again (same idempotency key) once someone checked the network."""
    reply = _reply_or_404(session, principal, reply_id)
    try:
        service.resend(session, reply=reply, actor=principal)
        session.commit()
    except service.ReplyError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    outbox.dispatch(reply.id)
    return RedirectResponse(f"/cases/{reply.case_id}#replies", status_code=303)


# -- approvals ---------------------------------------------------------------------------------


@router.get("/approvals")
def approvals_page(request: Request, session: DbReadSession, principal: LeadPrincipal) -> Response:
    """Replies awaiting a lead: approve, edit and approve, or reject with a comment."""
    _timezone(request, session, principal)
    held = service.awaiting_approval(session, workspace_id=principal.workspace_id)
    return render(request, "replies/approvals.html", {
        "held": held, "show_findings": show_findings, "reason_labels": reason_labels,
        "error": request.query_params.get("error"), "done": request.query_params.get("done"),
    })


def _review(session: DbSession, principal: Principal, reply_id: int, action: str, comment: str,
            text: str = "") -> Response:
    from urllib.parse import quote

    reply = _reply_or_404(session, principal, reply_id)
    try:
        if action == "approve":
            service.approve(session, reply=reply, actor=principal, comment=comment)
        elif action == "edit":
            service.edit(session, reply=reply, actor=principal, text=text, comment=comment)
        else:
            service.reject(session, reply=reply, actor=principal, comment=comment)
        session.commit()
    except service.ReplyForbidden as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except service.ReplyError as exc:
        session.rollback()
        return RedirectResponse(f"/approvals?error={quote(str(exc))}", status_code=303)
    if reply.status == ReplyStatus.approved.value:
        outbox.dispatch(reply.id)
    return RedirectResponse(f"/approvals?done={reply.id}", status_code=303)


@router.post("/approvals/{reply_id}/approve", dependencies=[Depends(csrf_protect)])
def approve_reply(reply_id: int, session: DbSession, principal: LeadPrincipal,
                  comment: Annotated[str, Form()] = "") -> Response:
    """Approve a held reply as written; it is sent at once."""
    return _review(session, principal, reply_id, "approve", comment)


@router.post("/approvals/{reply_id}/edit", dependencies=[Depends(csrf_protect)])
def edit_reply(reply_id: int, session: DbSession, principal: LeadPrincipal,
               text: Annotated[str, Form()] = "", comment: Annotated[str, Form()] = "") -> Response:
    """Rewrite a held reply and approve the new text."""
    return _review(session, principal, reply_id, "edit", comment, text)


@router.post("/approvals/{reply_id}/reject", dependencies=[Depends(csrf_protect)])
def reject_reply(reply_id: int, session: DbSession, principal: LeadPrincipal,
                 comment: Annotated[str, Form()] = "") -> Response:
    """Reject a held reply; the comment (required) tells the agent why."""
    return _review(session, principal, reply_id, "reject", comment)


# -- template library --------------------------------------------------------------------------


def _check_template_key(key: str, language: str) -> None:
    if key not in service.TEMPLATE_KEYS or language not in LANGUAGES:
        raise HTTPException(status_code=404, detail=_("No such template."))


@router.get("/admin/templates")
def template_library(request: Request, session: DbReadSession, principal: LeadPrincipal) -> Response:
    """Every reply template (edited or default) and the saved replies."""
    _timezone(request, session, principal)
    return render(request, "replies/templates.html", {
        "entries": service.template_library(session, workspace_id=principal.workspace_id),
        "macros": service.saved_replies(session, workspace_id=principal.workspace_id),
        "languages": LANGUAGES, "error": request.query_params.get("error"),
    })


def _editor(request: Request, session: DbReadSession | DbSession, principal: Principal, key: str, language: str,
            source: str | None = None, error: str | None = None, status_code: int = 200) -> Response:
    _timezone(request, session, principal)
    entry = next(e for e in service.template_library(session, workspace_id=principal.workspace_id)
                 if e.key == key and e.language == language)
    current = entry.source if source is None else source
    preview, problem = _preview(session, principal, key, language, current)
    return render(request, "replies/template_edit.html", {
        "entry": entry, "source": current, "variables": TEMPLATE_VARIABLES,
        "versions": service.template_versions(session, workspace_id=principal.workspace_id, key=key,
                                              language=language),
        "preview": preview, "problem": error or problem, "saved": request.query_params.get("saved"),
    }, status_code=status_code)


def _preview(session: DbReadSession | DbSession, principal: Principal, key: str, language: str,
             source: str) -> tuple[list[str], str | None]:
    workspace = session.get(Workspace, principal.workspace_id)
    brand = workspace.name if workspace else "Brand"
    agent = principal.name.split()[0] if principal.name.strip() else "Ana"
    try:
        return [service.preview_template(source, key=key, language=language, agent_name=agent, brand=brand,
                                         compact=level) for level in (0, 1, 2)], None
    except TemplateError as exc:
        return [], str(exc)


@router.get("/admin/templates/{key}/{language}")
def template_editor(request: Request, key: str, language: str, session: DbReadSession,
                    principal: LeadPrincipal) -> Response:
    """Edit one template: the variables it may use, a live preview, and its versions."""
    _check_template_key(key, language)
    return _editor(request, session, principal, key, language)


@router.post("/admin/templates/{key}/{language}/preview", dependencies=[Depends(csrf_protect)])
def template_preview(request: Request, key: str, language: str, session: DbReadSession,
                     principal: LeadPrincipal, source: Annotated[str, Form()] = "") -> Response:
    """The live preview (an HTML fragment): the template rendered in the sandbox for a sample case."""
    _check_template_key(key, language)
    preview, problem = _preview(session, principal, key, language, source)
    return render(request, "replies/template_preview.html", {"preview": preview, "problem": problem})


@router.post("/admin/templates/{key}/{language}", dependencies=[Depends(csrf_protect)])
def save_template(request: Request, key: str, language: str, session: DbSession, principal: LeadPrincipal,
                  source: Annotated[str, Form()] = "") -> Response:
    """Store a new version; a template that does not render is refused with the reason."""
    _check_template_key(key, language)
    try:
        template = service.save_template(session, workspace_id=principal.workspace_id, key=key,
                                         language=language, source=source, actor=principal)
        session.commit()
    except (TemplateError, service.ReplyError) as exc:
        session.rollback()
        return _editor(request, session, principal, key, language, source=source, error=str(exc),
                       status_code=422)
    return RedirectResponse(f"/admin/templates/{key}/{language}?saved={template.version}", status_code=303)


@router.post("/admin/saved-replies", dependencies=[Depends(csrf_protect)])
def add_saved_reply(session: DbSession, principal: LeadPrincipal, title: Annotated[str, Form()] = "",
                    body: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "es",
                    shortcut: Annotated[str, Form()] = "") -> Response:
    """Add a saved reply (macro) agents insert with a key from 1 to 9."""
    from urllib.parse import quote

    try:
        service.save_saved_reply(session, workspace_id=principal.workspace_id, title=title, body=body,
                                 language=language, shortcut=int(shortcut) if shortcut.strip().isdigit() else None,
                                 actor=principal)
        session.commit()
    except service.ReplyError as exc:
        session.rollback()
        return RedirectResponse(f"/admin/templates?error={quote(str(exc))}#saved-replies", status_code=303)
    return RedirectResponse("/admin/templates#saved-replies", status_code=303)
