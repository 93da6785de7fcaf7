"""The FastAPI application: HTML pages, the REST API and webhooks, with sessions and i18n."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from ventanilla import __version__
from ventanilla.config import get_settings
from ventanilla.web import i18n
from ventanilla.web.deps import Forbidden, LoginRequired
from ventanilla.web.templating import render

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app() -> FastAPI:
    """Build the application (uvicorn calls this: `ventanilla serve`)."""
    settings = get_settings()
    import ventanilla.all_models  # noqa: F401  (register every table and the audit guard)

    clock = not settings.broker_url and settings.run_clock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The one-process install: periodic jobs tick beside the web app (see workers/clock.py).
        stop = None
        if clock:
            from ventanilla.workers.clock import start_in_background

            stop = app.state.clock_stop = start_in_background()
        yield
        if stop is not None:
            stop.set()

    app = FastAPI(title="ventanilla", version=__version__, docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None, lifespan=lifespan)

    @app.middleware("http")
    async def language_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        session = request.scope.get("session") or {}
        i18n.set_language(i18n.pick_language(
            explicit=request.query_params.get("lang") or session.get("lang"), user=None,
            accept=request.headers.get("accept-language"), default=settings.default_language))
        response = await call_next(request)
        path = request.url.path
        embeddable = path.startswith("/promise/") and path.endswith("/snippet.html")
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and path.startswith("/api/docs"):
                continue  # the OpenAPI page needs its own inline script
            if embeddable and name in ("X-Frame-Options", "Content-Security-Policy"):
                continue  # the promise snippet is meant to be framed by the brand's own pages
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="ventanilla",
                       max_age=settings.session_max_age, same_site="lax", https_only=settings.cookie_secure)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    from ventanilla.accounts.views import router as accounts_views
    from ventanilla.cases.api import router as cases_api
    from ventanilla.cases.views import router as cases_views
    from ventanilla.cases.workflow_views import router as workflow_views
    from ventanilla.crisis.views import router as crisis_views
    from ventanilla.followups.views import router as followups_views
    from ventanilla.improvements.views import router as improvements_views
    from ventanilla.ingest.api import router as ingest_api
    from ventanilla.ingest.views import router as ingest_views
    from ventanilla.privacy.views import router as privacy_views
    from ventanilla.replies.api import router as replies_api
    from ventanilla.replies.views import router as replies_views
    from ventanilla.sla.views import router as sla_views
    from ventanilla.triage.views import router as triage_views

    for router in (accounts_views, cases_views, workflow_views, cases_api, ingest_api, ingest_views, triage_views,
                   replies_views, replies_api, sla_views, crisis_views,
                   followups_views, improvements_views, privacy_views):
        app.include_router(router)

    @app.get("/health", include_in_schema=False)
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _exc: Forbidden) -> Response:
        return render(request, "error.html", {"code": 403, "message": i18n.gettext(
            "Your role does not allow this page.")}, status_code=403)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _is_api(request) or exc.status_code == 401:
            return await http_exception_handler(request, exc)
        return render(request, "error.html", {"code": exc.status_code, "message": str(exc.detail)},
                      status_code=exc.status_code)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Any) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return render(request, "error.html", {"code": 404, "message": i18n.gettext("Page not found.")},
                      status_code=404)

    return app
