"""UI text through gettext catalogs (Spanish first, English too), chosen per request."""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED = ("es", "en")
_current: ContextVar[str] = ContextVar("ventanilla_language", default="es")


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog for ``language`` (English source text when there is none)."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALES), [language], domain="messages")


def set_language(language: str) -> None:
    """Use ``language`` for the rest of this request."""
    _current.set(language if language in SUPPORTED else SUPPORTED[0])


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    """Translate ``message`` into the request's language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pick_language(*, explicit: str | None, user: str | None, accept: str | None, default: str) -> str:
    """The language to show: an explicit choice, the user's, the browser's, then the default."""
    for candidate in (explicit, user):
        if candidate in SUPPORTED:
            return candidate
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in SUPPORTED:
            return code
    return default if default in SUPPORTED else SUPPORTED[0]
