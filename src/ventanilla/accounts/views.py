"""Sign-in, sign-out, language choice and the admin's user list."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ventanilla.accounts.models import Role
from ventanilla.accounts.service import (
    AccountError,
    LoginThrottled,
    Principal,
    authenticate,
    create_user,
    get_workspace,
    members,
    principal_for,
)
from ventanilla.config import get_settings
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, ensure_csrf_token, require_page
from ventanilla.web.i18n import SUPPORTED
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing aid.
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    ensure_csrf_token(request)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(
    request: Request, session: DbSession,
    email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = get_settings()
    client = request.client.host if request.client else "unknown"
    try:
        user = authenticate(session, email=email, password=password, client=client,
                            max_failures=settings.login_max_failures,
                            window_seconds=settings.login_window_seconds)
    except LoginThrottled:
        session.commit()
        return render(request, "login.html", {"next": _safe_next(next), "error": _(
            "Too many failed sign-ins. Wait a few minutes and try again.")}, status_code=429)
    session.commit()
    if user is None:
        # One message for unknown e-mail and wrong password: no account probing.
        return render(request, "login.html", {"next": _safe_next(next), "error": _(
            "E-mail or password is not right.")}, status_code=401)
    principal = principal_for(session, user_id=user.id)
    if principal is None:
        return render(request, "login.html", {"next": "/", "error": _(
            "Your account has no workspace yet. Ask an admin.")}, status_code=403)
    request.session.clear()
    request.session.update({"uid": user.id, "ws": principal.workspace_slug})
    ensure_csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/language", dependencies=[Depends(csrf_protect)])
def choose_language(request: Request, ui_language: Annotated[str, Form()] = "es",
                    back: Annotated[str, Form()] = "/") -> Response:
    if ui_language in SUPPORTED:
        request.session["lang"] = ui_language
    return RedirectResponse(_safe_next(back), status_code=303)


@router.get("/admin/users")
def users_page(request: Request, session: DbReadSession,
               principal: Annotated[Principal, Depends(require_page("admin"))]) -> Response:
    return render(request, "users.html", {"members": members(session, workspace_id=principal.workspace_id),
                                          "roles": [r.value for r in Role], "error": None})


@router.post("/admin/users", dependencies=[Depends(csrf_protect)])
def add_user(
    request: Request, session: DbSession,
    principal: Annotated[Principal, Depends(require_page("admin"))],
    email: Annotated[str, Form()], name: Annotated[str, Form()],
    password: Annotated[str, Form()], role: Annotated[str, Form()],
) -> Response:
    workspace = get_workspace(session, slug=principal.workspace_slug)
    assert workspace is not None
    error = None
    if role not in {r.value for r in Role}:
        error = _("Unknown role.")
    else:
        try:
            create_user(session, email=email, name=name, password=password, workspace=workspace,
                        role=Role(role), actor=principal.actor)
            session.commit()
            return RedirectResponse("/admin/users", status_code=303)
        except AccountError as exc:
            session.rollback()
            error = str(exc)
    return render(request, "users.html", {"members": members(session, workspace_id=principal.workspace_id),
                                          "roles": [r.value for r in Role], "error": error},
                  status_code=422)
