"""Playbook drafts: a reply the agent can send as is or edit, for each stage of a case.

The default templates live in `templates/` as `<stage>.<lang>.j2` (and `praise.<lang>.j2`).
The lead can store edited versions and pass them in `templates`; they are rendered the same
way, in the sandbox. A draft is shortened by choosing a more compact variant of its template,
never by cutting words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ventanilla.replies.draft_context import LANGUAGES, STAGES, DraftContext
from ventanilla.replies.networks import measured_length, network_limit
from ventanilla.replies.templating import TemplateError, render_template

TEMPLATE_DIR = Path(__file__).parent / "templates"
COMPACT_LEVELS = (0, 1, 2)

SPAM_NOTE = {
    "es": "No se recomienda responder a spam: márcalo con su motivo y no lo contestes.",
    "en": "Replying to spam is not recommended: mark it with a reason and leave it unanswered.",
}


@dataclass(frozen=True, slots=True)
class Draft:
    """A reply draft; `text` is empty when the playbook says not to answer (`note` says why)."""

    text: str
    template: str
    compact: int
    length: int
    limit: int | None
    fits: bool
    note: str = ""

    def lint_options(self, ctx: DraftContext) -> dict[str, object]:
        """The keyword arguments to lint this draft with (same situation as the draft)."""
        return {
            "customer_lang": ctx.customer_lang,
            "public": ctx.public,
            "network": ctx.network,
            "first_reply": ctx.stage == "first_public",
            "is_complaint": ctx.is_complaint,
        }


def template_name(ctx: DraftContext) -> str:
    """The name of the template a context uses, e.g. "first_public.es" or "praise.en"."""
    if ctx.intent == "praise":
        return f"praise.{ctx.customer_lang}"
    return f"{ctx.stage}.{ctx.customer_lang}"


def default_template_names() -> list[str]:
    """Every default template name, in a stable order."""
    names = [f"{stage}.{lang}" for stage in STAGES for lang in LANGUAGES]
    return names + [f"praise.{lang}" for lang in LANGUAGES]


@lru_cache(maxsize=32)
def default_template(name: str) -> str:
    """The source of a default template by name (raises TemplateError for unknown names)."""
    if name not in default_template_names():
        raise TemplateError(f"no default template called {name!r}")
    return (TEMPLATE_DIR / f"{name}.j2").read_text(encoding="utf-8")


def draft(ctx: DraftContext, templates: Mapping[str, str] | None = None) -> Draft:
    """Render the playbook draft for `ctx`, the most complete variant that fits the network.

    `templates` maps template names to edited sources that replace the defaults. If even the
    most compact variant is too long (very long brand or handle), that variant is returned with
    `fits=False` for the agent to shorten by hand.
    """
    limit = network_limit(ctx.network, ctx.public)
    if ctx.intent == "spam":
        return Draft("", "", 0, 0, limit.max_chars if limit else None, True, SPAM_NOTE[ctx.customer_lang])
    name = template_name(ctx)
    source = (templates or {}).get(name) or default_template(name)
    text = ""
    length = 0
    level = 0
    for level in COMPACT_LEVELS:
        text = render_template(source, ctx, compact=level)
        length = measured_length(text, ctx.network, ctx.public)
        if limit is None or length <= limit.max_chars:
            return Draft(text, name, level, length, limit.max_chars if limit else None, True)
    assert limit is not None
    return Draft(text, name, level, length, limit.max_chars, False, "too long for the network")
