"""Jinja2 templates: autoescaped, translated, times shown in the workspace's zone."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

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


def highlight(value: str, words: list[str] | None) -> Markup:
    """The text, escaped, with the words that drove a label wrapped in <mark>."""
    terms = sorted({w for w in (words or []) if w and len(w) > 1 and not w.startswith("<")}, key=len, reverse=True)
    if not terms:
        return Markup(escape(value))
    # Whole words only: evidence "en" must not light up inside "fuentes".
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(value):
        out.append(escape(value[last:match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


env.filters["localtime"] = localtime
env.filters["highlight"] = highlight
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
