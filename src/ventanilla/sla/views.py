"""SLA pages: the public promise (page, embeddable snippet, JSON), the lead's dashboard, alerts."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.models import Workspace
from ventanilla.accounts.service import Principal
from ventanilla.db import session_factory, utcnow
from ventanilla.ingest.models import Channel
from ventanilla.sla import alerts, promise, service
from ventanilla.sla.calendar import WEEKDAYS, BusinessCalendar
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import env, render

router = APIRouter()
LeadPrincipal = Annotated[Principal, Depends(require_page("lead"))]
ReadPrincipal = Annotated[Principal, Depends(require_page("read_inbox"))]

# The snippet is made to be framed by the brand's own site, so it alone may be framed anywhere
# (the app's middleware leaves out X-Frame-Options for it).
FRAMEABLE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; frame-ancestors *; base-uri 'none'",
    "Cache-Control": "public, max-age=300",
}
DAY_LABELS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
              "sat": "Saturday", "sun": "Sunday"}


def sla_for_case(case_id: int) -> service.CaseSlaView | None:
    """For the case page's SLA panel: the case's promises, due times and states (one query)."""
    with session_factory(readonly=True)() as session:
        return service.case_view(session, case_id)


env.globals["sla_for_case"] = sla_for_case


def _public(session: DbReadSession, slug: str) -> tuple[Workspace, list[promise.PublicPromise]]:
    found = promise.public_promises(session, slug=slug)
    if found is None:
        raise HTTPException(status_code=404, detail=_("Page not found."))
    return found


@router.get("/promise/{slug}.json")
def promise_json(slug: str, session: DbReadSession) -> Response:
    workspace, promises = _public(session, slug)
    return JSONResponse({
        "workspace": {"slug": workspace.slug, "name": workspace.name},
        "channels": [{"channel": p.channel, "network": p.network, "hours": p.hours,
                      "text": {"es": p.text_es, "en": p.text_en}} for p in promises],
    }, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"})


@router.get("/promise/{slug}/snippet.html")
def promise_snippet(request: Request, slug: str, session: DbReadSession) -> Response:
    workspace, promises = _public(session, slug)
    response: Response = render(request, "sla/snippet.html", {"workspace": workspace, "promises": promises})
    response.headers.update(FRAMEABLE_HEADERS)
    return response


@router.get("/promise/{slug}")
def promise_page(request: Request, slug: str, session: DbReadSession) -> Response:
    workspace, promises = _public(session, slug)
    return render(request, "sla/promise.html", {"workspace": workspace, "promises": promises})


def _optional_int(value: str | None, name: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise service.SlaError(f"{name} must be a whole number") from None


def _calendar_form(calendar: BusinessCalendar) -> dict[str, Any]:
    data = calendar.to_dict()
    return {"timezone": data["timezone"],
            "hours": {day: ", ".join(f"{a}-{b}" for a, b in data["hours"].get(day, [])) for day in WEEKDAYS},
            "holidays": "\n".join(data["holidays"])}


def _dashboard(request: Request, session: DbReadSession | DbSession, principal: Principal,
               extra: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    workspace_id = principal.workspace_id
    request.state.workspace_tz = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
    context = {
        "stats": promise.promise_stats(session, workspace_id=workspace_id, now=utcnow()),
        "policies": service.list_policies(session, workspace_id=workspace_id),
        "channels": session.execute(select(Channel.id, Channel.name, Channel.is_public)
                                    .where(Channel.workspace_id == workspace_id).order_by(Channel.name)).all(),
        "promises": promise.promises_by_channel(session, workspace_id=workspace_id),
        "calendar": _calendar_form(service.workspace_calendar(session, workspace_id)),
        "webhook_url": service.webhook_url(session, workspace_id) or "",
        "weekdays": [(day, DAY_LABELS[day]) for day in WEEKDAYS],
        "error": request.query_params.get("error"),
        "saved": request.query_params.get("saved"),
        "warning": None,
    }
    context.update(extra or {})
    return render(request, "sla/dashboard.html", context, status_code=status_code)


def _back(error: str | None = None) -> RedirectResponse:
    return RedirectResponse("/sla?" + (f"error={quote(error)}" if error else "saved=1"), status_code=303)


@router.get("/sla")
def dashboard(request: Request, session: DbReadSession, principal: LeadPrincipal) -> Response:
    return _dashboard(request, session, principal)


def _policy_input(name: str, priority: str, channel_id: str, first_response: str, next_response: str,
                  resolution: str, position: str) -> service.PolicyInput:
    return service.PolicyInput(
        name=name, priority=_optional_int(priority, _("Priority")),
        channel_id=_optional_int(channel_id, _("Channel")),
        first_response_minutes=_optional_int(first_response, _("First response")),
        next_response_minutes=_optional_int(next_response, _("Next response")),
        resolution_minutes=_optional_int(resolution, _("Resolution")),
        position=_optional_int(position, _("Order")))


def _check_channel(session: DbSession, principal: Principal, channel_id: int | None) -> None:
    if channel_id is not None and session.scalar(select(Channel.id).where(
            Channel.id == channel_id, Channel.workspace_id == principal.workspace_id)) is None:
        raise service.SlaError("no such channel")


@router.post("/sla/policies", dependencies=[Depends(csrf_protect)])
def add_policy(
    session: DbSession, principal: LeadPrincipal, name: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "", channel_id: Annotated[str, Form()] = "",
    first_response: Annotated[str, Form()] = "", next_response: Annotated[str, Form()] = "",
    resolution: Annotated[str, Form()] = "", position: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = _policy_input(name, priority, channel_id, first_response, next_response, resolution, position)
        _check_channel(session, principal, data.channel_id)
        service.add_policy(session, workspace_id=principal.workspace_id, data=data, actor=principal.actor)
        session.commit()
    except service.SlaError as exc:
        return _back(str(exc))
    return _back()


@router.post("/sla/policies/{policy_id}", dependencies=[Depends(csrf_protect)])
def edit_policy(
    policy_id: int, session: DbSession, principal: LeadPrincipal, name: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "", channel_id: Annotated[str, Form()] = "",
    first_response: Annotated[str, Form()] = "", next_response: Annotated[str, Form()] = "",
    resolution: Annotated[str, Form()] = "", position: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = _policy_input(name, priority, channel_id, first_response, next_response, resolution, position)
        _check_channel(session, principal, data.channel_id)
        service.update_policy(session, workspace_id=principal.workspace_id, policy_id=policy_id, data=data,
                              actor=principal.actor)
        session.commit()
    except service.SlaError as exc:
        return _back(str(exc))
    return _back()


@router.post("/sla/policies/{policy_id}/delete", dependencies=[Depends(csrf_protect)])
def delete_policy(policy_id: int, session: DbSession, principal: LeadPrincipal) -> Response:
    try:
        service.delete_policy(session, workspace_id=principal.workspace_id, policy_id=policy_id,
                              actor=principal.actor)
        session.commit()
    except service.SlaError as exc:
        return _back(str(exc))
    return _back()


@router.post("/sla/calendar", dependencies=[Depends(csrf_protect)])
async def set_calendar(request: Request, session: DbSession, principal: LeadPrincipal) -> Response:
    form = await request.form()
    hours: dict[str, list[list[str]]] = {}
    try:
        for day in WEEKDAYS:
            spans = []
            for part in str(form.get(f"hours_{day}", "")).replace(";", ",").split(","):
                part = part.strip()
                if not part:
                    continue
                if "-" not in part:
                    raise ValueError(f"{day}: write spans as 09:00-14:00, got {part!r}")
                start, end = (piece.strip() for piece in part.split("-", 1))
                spans.append([start, end])
            hours[day] = spans
        holidays = [h.strip() for h in str(form.get("holidays", "")).replace(",", "\n").splitlines() if h.strip()]
        calendar = BusinessCalendar.from_dict({"timezone": str(form.get("timezone", "")).strip(),
                                               "hours": hours, "holidays": holidays})
        service.set_calendar(session, workspace_id=principal.workspace_id, calendar=calendar,
                             actor=principal.actor)
        session.commit()
    except (ValueError, service.SlaError) as exc:
        return _back(str(exc))
    return _back()


@router.post("/sla/promises", dependencies=[Depends(csrf_protect)])
def set_promise(
    request: Request, session: DbSession, principal: LeadPrincipal, channel_id: Annotated[str, Form()] = "",
    hours: Annotated[str, Form()] = "", text_es: Annotated[str, Form()] = "", text_en: Annotated[str, Form()] = "",
) -> Response:
    try:
        channel = _optional_int(channel_id, _("Channel"))
        promised = _optional_int(hours, _("Hours"))
        if channel is None or promised is None:
            raise service.SlaError("choose a channel and the promised hours")
        warning = promise.set_promise(session, workspace_id=principal.workspace_id, channel_id=channel,
                                      hours=promised, text_es=text_es, text_en=text_en, actor=principal.actor,
                                      now=utcnow())
        session.commit()
    except service.SlaError as exc:
        return _back(str(exc))
    if warning is None:
        return _back()
    return _dashboard(request, session, principal, {"warning": warning, "warning_channel": channel})


@router.post("/sla/webhook", dependencies=[Depends(csrf_protect)])
def set_webhook(session: DbSession, principal: LeadPrincipal, url: Annotated[str, Form()] = "") -> Response:
    try:
        service.set_webhook_url(session, workspace_id=principal.workspace_id, url=url.strip() or None,
                                actor=principal.actor)
        session.commit()
    except service.SlaError as exc:
        return _back(str(exc))
    return _back()


@router.get("/sla/alerts")
def alert_list(request: Request, session: DbReadSession, principal: ReadPrincipal) -> Response:
    request.state.workspace_tz = session.scalar(select(Workspace.timezone)
                                                .where(Workspace.id == principal.workspace_id))
    items = alerts.alerts_for(session, user_id=principal.user_id, workspace_id=principal.workspace_id)
    return render(request, "sla/alerts.html", {"alerts": items})


@router.post("/sla/alerts/{alert_id}/read", dependencies=[Depends(csrf_protect)])
def read_alert(alert_id: int, session: DbSession, principal: ReadPrincipal) -> Response:
    alerts.mark_read(session, user_id=principal.user_id, alert_id=alert_id)
    session.commit()
    return RedirectResponse("/sla/alerts", status_code=303)
