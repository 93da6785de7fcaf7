"""Crisis pages: alerts and rooms (`/crisis`), one room (`/crisis/rooms/{id}`), the banner fragment.

Every route needs the `crisis_room` capability (admins, leads, the crisis team). Agents and
analysts get 403: a room holds legal and HR material on a need-to-know basis.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ventanilla.accounts.models import Workspace
from ventanilla.accounts.service import Principal
from ventanilla.crisis import live  # noqa: F401  (registers the event handlers in web processes)
from ventanilla.crisis import room as rooms
from ventanilla.crisis.live import is_historic, open_alert
from ventanilla.crisis.models import CrisisAlert, CrisisRoom, CrisisStatement, RoomRole
from ventanilla.db import utcnow
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import render

router = APIRouter()
CrisisPrincipal = Annotated[Principal, Depends(require_page("crisis_room"))]


def _timezone(request: Request, session: DbReadSession | DbSession, principal: Principal) -> Workspace:
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is None:
        raise HTTPException(status_code=404, detail=_("No such workspace."))
    request.state.workspace_tz = workspace.timezone
    return workspace


def _room_or_404(session: DbReadSession | DbSession, principal: Principal, room_id: int) -> CrisisRoom:
    room = rooms.get_room(session, workspace_id=principal.workspace_id, room_id=room_id)
    if room is None:
        raise HTTPException(status_code=404, detail=_("No such crisis room."))
    return room


def _back(room_id: int, error: str | None = None, anchor: str = "") -> RedirectResponse:
    query = f"?error={quote(error)}" if error else ""
    return RedirectResponse(f"/crisis/rooms/{room_id}{query}{anchor}", status_code=303)


@router.get("/crisis")
def crisis_page(request: Request, session: DbReadSession, principal: CrisisPrincipal) -> Response:
    """Alerts (open first) and rooms, with the forms to open a room."""
    workspace = _timezone(request, session, principal)
    alerts = rooms.list_alerts(session, workspace_id=principal.workspace_id)
    room_list = rooms.list_rooms(session, workspace_id=principal.workspace_id)
    open_rooms = {r.alert_id: r for r in room_list if r.is_open and r.alert_id}
    now = utcnow()
    # Alerts about posts older than a day that were never sent (an imported archive).
    historic = {a.id for a in alerts if is_historic(a, now) and not (a.delivered_email_at or a.delivered_webhook_at)}
    return render(request, "crisis/index.html", {
        "alerts": alerts, "rooms": room_list, "open_rooms": open_rooms, "historic": historic,
        "crisis_mode": rooms.in_crisis_mode(workspace), "error": request.query_params.get("error"),
    })


@router.get("/crisis/banner")
def crisis_banner(request: Request, session: DbReadSession, principal: CrisisPrincipal) -> Response:
    """The banner base.html loads for the crisis team: the open alert and rooms they were added to."""
    alert = open_alert(session, principal.workspace_id)
    unseen = rooms.unseen_rooms(session, workspace_id=principal.workspace_id, user_id=principal.user_id)
    return render(request, "crisis/banner.html", {"alert": alert, "unseen": unseen})


@router.post("/crisis/rooms", dependencies=[Depends(csrf_protect)])
def open_room(session: DbSession, principal: CrisisPrincipal, title: Annotated[str, Form()] = "",
              alert_id: Annotated[str, Form()] = "") -> Response:
    """Open a room by hand (a title) or from an alert."""
    try:
        room = rooms.open_room(session, workspace_id=principal.workspace_id, title=title, actor=principal,
                               alert_id=int(alert_id) if alert_id.strip() else None)
        session.commit()
    except (rooms.CrisisError, ValueError) as exc:
        session.rollback()
        return RedirectResponse(f"/crisis?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"/crisis/rooms/{room.id}", status_code=303)


@router.get("/crisis/rooms/{room_id}")
def room_page(request: Request, room_id: int, session: DbSession, principal: CrisisPrincipal) -> Response:
    """The room: members, timeline, statements with sign-offs, post-mortem."""
    workspace = _timezone(request, session, principal)
    room = _room_or_404(session, principal, room_id)
    rooms.mark_seen(session, room, principal.user_id)
    session.commit()
    statements = []
    for language in rooms.LANGUAGES:
        latest = rooms.latest_statement(session, room, language)
        statements.append({
            "language": language, "latest": latest,
            "versions": rooms.statement_versions(session, room, language) if latest else [],
            "signoffs": rooms.signoffs(session, latest) if latest else [],
            "missing": rooms.missing_signoffs(session, latest, workspace) if latest else [],
        })
    postmortem = rooms.get_postmortem(session, room)
    curve = postmortem.volume_curve if postmortem and not room.is_open else rooms.volume_curve(session, room)
    peak = max((p["negative"] for p in curve), default=0)
    return render(request, "crisis/room.html", {
        "room": room, "alert": session.get(CrisisAlert, room.alert_id) if room.alert_id else None,
        "members": rooms.members(session, room), "timeline": rooms.timeline(session, room),
        "statements": statements, "required": rooms.required_signoffs(workspace),
        "my_roles": rooms.member_roles(session, room, principal.user_id), "postmortem": postmortem,
        "curve": curve, "peak": peak, "people": rooms.workspace_people(session, principal.workspace_id),
        "room_roles": [r.value for r in RoomRole], "error": request.query_params.get("error"),
    })


@router.post("/crisis/rooms/{room_id}/members", dependencies=[Depends(csrf_protect)])
def add_member(room_id: int, session: DbSession, principal: CrisisPrincipal,
               user_id: Annotated[int, Form()], role: Annotated[str, Form()]) -> Response:
    """Add someone in a room role; they are told in the app and by e-mail."""
    room = _room_or_404(session, principal, room_id)
    try:
        rooms.add_member(session, room, user_id=user_id, role=role, actor=principal)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room_id, str(exc), "#members")
    rooms.notify_new_members(session.get_bind().engine, room_id=room.id)
    return _back(room_id, anchor="#members")


@router.post("/crisis/rooms/{room_id}/entries", dependencies=[Depends(csrf_protect)])
def add_entry(room_id: int, session: DbSession, principal: CrisisPrincipal,
              text: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "note") -> Response:
    """The scribe (or any member) writes a decision, a note or a status update."""
    room = _room_or_404(session, principal, room_id)
    try:
        rooms.scribe_entry(session, room, kind=kind, text=text, actor=principal)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room_id, str(exc), "#timeline")
    return _back(room_id, anchor="#timeline")


@router.post("/crisis/rooms/{room_id}/statements", dependencies=[Depends(csrf_protect)])
def create_statement(room_id: int, session: DbSession, principal: CrisisPrincipal,
                     language: Annotated[str, Form()] = "es") -> Response:
    """Start a holding statement from the template of a language."""
    room = _room_or_404(session, principal, room_id)
    try:
        rooms.create_statement(session, room, language=language, actor=principal)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room_id, str(exc), "#statements")
    return _back(room_id, anchor=f"#statement-{language}")


@router.post("/crisis/rooms/{room_id}/statements/{language}", dependencies=[Depends(csrf_protect)])
def edit_statement(room_id: int, language: str, session: DbSession, principal: CrisisPrincipal,
                   text: Annotated[str, Form()] = "", base_version: Annotated[str, Form()] = "") -> Response:
    """Save an edited statement as a new version (its sign-offs start again)."""
    room = _room_or_404(session, principal, room_id)
    try:
        rooms.edit_statement(session, room, language=language, text=text, actor=principal,
                             base_version=int(base_version) if base_version.strip().isdigit() else None)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room_id, str(exc), f"#statement-{language}")
    return _back(room_id, anchor=f"#statement-{language}")


def _statement(session: DbSession, principal: Principal, statement_id: int) -> tuple[CrisisStatement, CrisisRoom]:
    try:
        return rooms.get_statement(session, workspace_id=principal.workspace_id, statement_id=statement_id)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=_("No such statement.")) from exc


@router.post("/crisis/statements/{statement_id}/signoff", dependencies=[Depends(csrf_protect)])
def sign_off(statement_id: int, session: DbSession, principal: CrisisPrincipal,
             role: Annotated[str, Form()] = "") -> Response:
    """Sign this version in a room role you hold (403 when you do not hold it)."""
    statement, room = _statement(session, principal, statement_id)
    try:
        rooms.sign_off(session, statement, role=role, actor=principal)
        session.commit()
    except rooms.CrisisForbidden as exc:
        session.rollback()
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room.id, str(exc), f"#statement-{statement.language}")
    return _back(room.id, anchor=f"#statement-{statement.language}")


@router.post("/crisis/statements/{statement_id}/publish", dependencies=[Depends(csrf_protect)])
def publish(statement_id: int, session: DbSession, principal: CrisisPrincipal) -> Response:
    """Publish once every required role signed this version; otherwise say who is missing."""
    statement, room = _statement(session, principal, statement_id)
    try:
        rooms.publish_statement(session, statement, actor=principal)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room.id, str(exc), f"#statement-{statement.language}")
    return _back(room.id, anchor=f"#statement-{statement.language}")


@router.post("/crisis/rooms/{room_id}/postmortem", dependencies=[Depends(csrf_protect)])
def save_postmortem(room_id: int, session: DbSession, principal: CrisisPrincipal,
                    went_well: Annotated[str, Form()] = "", went_badly: Annotated[str, Form()] = "",
                    actions: Annotated[str, Form()] = "") -> Response:
    """Write the post-mortem: what went well, what went badly, one action per line."""
    room = _room_or_404(session, principal, room_id)
    try:
        rooms.save_postmortem(session, room, went_well=went_well, went_badly=went_badly,
                              actions=actions.splitlines(), actor=principal)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room_id, str(exc), "#postmortem")
    return _back(room_id, anchor="#postmortem")


@router.post("/crisis/rooms/{room_id}/close", dependencies=[Depends(csrf_protect)])
def close_room(room_id: int, session: DbSession, principal: CrisisPrincipal) -> Response:
    """Close the room (refused without a post-mortem); crisis mode ends with the last open room."""
    room = _room_or_404(session, principal, room_id)
    try:
        rooms.close_room(session, room, actor=principal)
        session.commit()
    except rooms.CrisisError as exc:
        session.rollback()
        return _back(room_id, str(exc), "#postmortem")
    return _back(room_id)

