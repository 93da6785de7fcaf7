"""Jinja2 templates: autoescaped, translated, times shown in the workspace's zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ventanilla.web import i18n

env = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n"],
)
templates = Jinja2Templates(env=env)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def localtime(value: datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time shown in the workspace's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


env.filters["localtime"] = localtime
env.globals["current_language"] = i18n.current_language


def render(request: Any, name: str, context: dict[str, Any], status_code: int = 200) -> Any:
    """Render ``name`` with the request's principal, CSRF token and language filled in."""
    base = {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": request.session.get("csrf", "") if "session" in request.scope else "",
        "lang": i18n.current_language(),
        "workspace_tz": getattr(request.state, "workspace_tz", "UTC"),
    }
    base.update(context)
    return templates.TemplateResponse(request, name, base, status_code=status_code)
