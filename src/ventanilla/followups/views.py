"""Follow-up pages: the customer's public survey, and the case page's care panel (guardrails,
follow-up and CSAT, improvements, dossier) that `case.html` includes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.service import Principal
from ventanilla.cases import guardrails
from ventanilla.cases.models import Case
from ventanilla.db import session_factory
from ventanilla.followups import service
from ventanilla.followups.models import CsatResponse, Followup
from ventanilla.followups.survey_text import SURVEY_TEXT, survey_text
from ventanilla.improvements import service as improvements
from ventanilla.improvements.models import Improvement, ImprovementNotice
from ventanilla.privacy.models import CaseGuardrail
from ventanilla.web import i18n
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import env, render

log = logging.getLogger(__name__)
router = APIRouter()
WorkPrincipal = Annotated[Principal, Depends(require_page("work_cases"))]


@dataclass(slots=True)
class CarePanel:
    """What the case page's care panel shows."""

    guardrail: CaseGuardrail | None = None
    post_guards: dict[int, guardrails.PostGuard] = field(default_factory=dict)
    followups: list[tuple[Followup, CsatResponse | None]] = field(default_factory=list)
    improvements: list[tuple[Improvement, ImprovementNotice | None]] = field(default_factory=list)
    linkable: list[Improvement] = field(default_factory=list)
    failed: bool = False


def care_panel(case: Case, principal: Principal | None) -> CarePanel:
    """Load the care panel for the case page (a template global: case.html stays one include)."""
    if principal is None or case.workspace_id != principal.workspace_id:
        return CarePanel()
    session = session_factory(readonly=True)()
    try:
        panel = CarePanel(
            guardrail=guardrails.guardrail_for(session, case=case),
            post_guards=guardrails.post_guards(session, case=case),
            followups=service.followups_for(session, case=case),
            improvements=improvements.for_case(session, case=case),
        )
        if principal.can("lead"):
            linked = {i.id for i, _n in panel.improvements}
            panel.linkable = [i for i in improvements.open_improvements(session, workspace_id=case.workspace_id)
                              if i.id not in linked]
        return panel
    except Exception:  # the case page must still show the conversation
        log.exception("care panel failed for case %s", case.id)
        return CarePanel(failed=True)
    finally:
        session.close()  # detaches without expiring: the template reads the loaded rows


env.globals["care_panel"] = care_panel


def _back(case_id: int, error: str | None = None) -> RedirectResponse:
    from urllib.parse import quote

    suffix = f"?error={quote(error)}" if error else ""
    return RedirectResponse(f"/cases/{case_id}{suffix}#care", status_code=303)


@router.post("/followups/{followup_id}/sent", dependencies=[Depends(csrf_protect)])
def followup_sent(followup_id: int, session: DbSession, principal: WorkPrincipal) -> Response:
    followup = session.scalar(select(Followup).where(
        Followup.id == followup_id, Followup.workspace_id == principal.workspace_id))
    if followup is None:
        raise HTTPException(status_code=404, detail=_("No such follow-up."))
    try:
        service.mark_sent(session, followup=followup, actor=principal.actor)
        session.commit()
    except service.FollowupError as exc:
        return _back(followup.case_id, str(exc))
    return _back(followup.case_id)


# -- the customer's survey: public, no sign-in, no CSRF token (the unguessable link is the key) --

def _survey_page(request: Request, lang: str, context: dict[str, Any], status_code: int = 200) -> Response:
    i18n.set_language(lang)
    return render(request, "followups/survey.html", {"t": survey_text(lang), **context}, status_code=status_code)


def _survey_or_404(session: DbReadSession | DbSession, token: str) -> service.SurveyView:
    try:
        return service.survey(session, token=token)
    except service.SurveyNotFound as exc:
        raise HTTPException(status_code=404, detail=SURVEY_TEXT[i18n.current_language()]["not_found"]) from exc


@router.get("/survey/{token}")
def survey_page(request: Request, token: str, session: DbReadSession) -> Response:
    view = _survey_or_404(session, token)
    state = "answered" if view.answered else ("expired" if view.followup.state == "expired" else "open")
    return _survey_page(request, view.language, {"view": view, "state": state, "token": token})


@router.post("/survey/{token}")
def survey_answer(request: Request, token: str, session: DbSession, score: Annotated[str, Form()] = "",
                  comment: Annotated[str, Form()] = "") -> Response:
    view = _survey_or_404(session, token)
    context: dict[str, Any] = {"view": view, "token": token}
    try:
        service.answer_survey(session, token=token, score=int(score) if score.strip().isdigit() else 0,
                              comment=comment)
        session.commit()
    except service.SurveyAnswered:
        session.rollback()
        return _survey_page(request, view.language, {**context, "state": "answered"}, 409)
    except service.SurveyExpired:
        session.rollback()
        return _survey_page(request, view.language, {**context, "state": "expired"}, 410)
    except service.FollowupError:
        session.rollback()
        return _survey_page(request, view.language, {**context, "state": "open", "invalid": True,
                                                     "comment": comment[:service.MAX_COMMENT]}, 422)
    low = int(score) <= service.LOW_SCORE
    return _survey_page(request, view.language, {**context, "state": "thanks", "low": low})
