"""What routes inject: a database session, the signed-in principal, permission checks, CSRF."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from ventanilla.accounts.service import Principal, principal_for, user_for_token
from ventanilla.db import session_factory


class LoginRequired(Exception):
    """Raised by HTML routes when nobody is signed in (answered with a redirect)."""


class Forbidden(Exception):
    """The principal's role does not allow this (answered with 403)."""


def _session(readonly: bool) -> Iterator[Session]:
    session = session_factory(readonly=readonly)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def db_session() -> Iterator[Session]:
    """A session for a request that writes; the route commits what it wants kept."""
    yield from _session(False)


def db_read_session() -> Iterator[Session]:
    """A session for a request that only reads."""
    yield from _session(True)


DbSession = Annotated[Session, Depends(db_session)]
DbReadSession = Annotated[Session, Depends(db_read_session)]


def ensure_csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing browser request without the session's CSRF token."""
    expected = request.session.get("csrf", "")
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong; reload the page")


def _principal_from_session(request: Request, session: Session) -> Principal | None:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    return principal_for(session, user_id=uid, workspace_slug=request.session.get("ws"))


def page_principal(request: Request, session: DbReadSession) -> Principal:
    """The signed-in user for an HTML page (redirects to the sign-in page when nobody is)."""
    principal = _principal_from_session(request, session)
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    ensure_csrf_token(request)
    return principal


def require_page(capability: str) -> Callable[..., Principal]:
    """Dependency: an HTML route that needs ``capability``."""

    def check(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
        if not principal.can(capability):
            raise Forbidden()
        return principal

    return check


def api_principal(
    request: Request, session: DbSession,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller of an API route: a bearer token, or a signed-in browser session."""
    principal: Principal | None = None
    if authorization and authorization.lower().startswith("bearer "):
        user = user_for_token(session, authorization[7:].strip())
        if user is not None:
            principal = principal_for(session, user_id=user.id)
            session.commit()
    elif "session" in request.scope:
        principal = _principal_from_session(request, session)
        if principal is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            # A browser calling the API with its cookie must prove it is our page (CSRF).
            expected = str(request.session.get("csrf", ""))
            sent = request.headers.get("x-csrf-token", "")
            if not expected or not hmac.compare_digest(expected, sent):
                raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
    if principal is None:
        raise HTTPException(status_code=401, detail="authentication required",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def require_api(capability: str) -> Callable[..., Principal]:
    """Dependency: an API route that needs ``capability``."""

    def check(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        if not principal.can(capability):
            raise HTTPException(status_code=403, detail=f"your role cannot {capability.replace('_', ' ')}")
        return principal

    return check
