"""Playbook drafts: every default draft follows the playbook, fits the network, stays safe."""

from __future__ import annotations

import itertools

import pytest

from ventanilla.replies.draft_context import (
    INTENTS,
    REASONS,
    STAGES,
    DraftContext,
    DraftContextError,
)
from ventanilla.replies.drafts import default_template, default_template_names, draft
from ventanilla.replies.lint import lint
from ventanilla.replies.lint.personal_data import find_personal_data
from ventanilla.replies.networks import measured_length
from ventanilla.replies.template_values import TEMPLATE_VARIABLES
from ventanilla.replies.templating import (
    SandboxViolationError,
    TemplateError,
    TemplateSyntaxProblem,
    UnknownVariableError,
    check_template,
    render_template,
)

PLACES = [(True, "x"), (True, "facebook"), (True, "instagram"), (True, "bluesky"),
          (False, "x"), (False, "email")]


def context(**changes: object) -> DraftContext:
    values: dict[str, object] = {
        "customer_lang": "es", "reason": "late", "intent": "wants_fix", "stage": "first_public",
        "public": True, "network": "x", "customer_handle": "@marta_lopez_gar",
        "customer_name": "Marta", "agent_name": "Lucía", "brand": "Aerolíneas del Sur",
        "survey_url": "https://encuestas.example.com/s/8842?c=ab12",
    }
    values.update(changes)
    return DraftContext(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("lang", "stage"), list(itertools.product(("es", "en"), STAGES)))
def test_every_default_draft_lints_clean_and_fits(lang: str, stage: str) -> None:
    for intent, reason, (public, network) in itertools.product(INTENTS, REASONS, PLACES):
        ctx = context(customer_lang=lang, stage=stage, intent=intent, reason=reason,
                      public=public, network=network)
        result = draft(ctx)
        if intent == "spam":
            assert result.text == "" and result.note
            continue
        blocking = [f for f in lint(result.text, **result.lint_options(ctx)) if f.blocking]  # type: ignore[arg-type]
        assert blocking == [], (ctx, result.text, blocking)
        assert result.fits
        if public and network == "x":
            assert measured_length(result.text, "x") <= 280
            assert result.text.startswith("@marta_lopez_gar ")


def test_first_public_draft_follows_the_playbook() -> None:
    text = draft(context(network="facebook", customer_handle=None)).text
    assert "Gracias" in text                       # thanks
    assert "perdona" in text and "Aerolíneas del Sur" in text  # apology in the company's name
    assert "mensaje directo" in text               # where to continue privately
    assert "24 horas" in text                      # when they will hear back (the promise)
    assert text.endswith("Lucía")                  # signed by the agent
    english = draft(context(customer_lang="en", network="facebook", promise_hours=48)).text
    assert "48 hours" in english and english.endswith("Lucía")


def test_x_drafts_shorten_by_variant_never_mid_word() -> None:
    long_brand = context(brand="Compañía Transmediterránea de Viajes, Cruceros, Ferris, Autobuses y Trenes del Sur",
                         customer_handle="@abcdefghijklmno")
    result = draft(long_brand)
    assert result.fits and result.compact > 0
    full = render_template(default_template("first_public.es"), long_brand, compact=0)
    assert len(full) > 280 and result.text != full
    assert result.text.split()[-1] in ("^Lucía", "Lucía")


def test_public_drafts_carry_no_personal_data() -> None:
    for lang, stage, intent in itertools.product(("es", "en"), STAGES, INTENTS):
        ctx = context(customer_lang=lang, stage=stage, intent=intent,
                      goodwill_offer="te regalamos un bono de 20 €")
        assert find_personal_data(draft(ctx).text) == []


def test_edited_templates_replace_the_defaults() -> None:
    ctx = context()
    edited = {
        "first_public.es": "{{ handle }} ¡Gracias, {{ name }}! Te escribimos por {{ channel }} "
        "en {{ promise }}. ^{{ agent }}"
    }
    result = draft(ctx, templates=edited)
    assert result.text == "@marta_lopez_gar ¡Gracias, Marta! Te escribimos por mensaje directo en 24 horas. ^Lucía"


def test_template_variables_are_listed_and_complete() -> None:
    for name in default_template_names():
        check_template(default_template(name))  # uses only listed variables
    assert {"handle", "agent", "brand", "promise", "channel", "survey_url"} <= set(TEMPLATE_VARIABLES)


@pytest.mark.parametrize(
    ("source", "error", "words"),
    [
        ("Hola {{ name ", TemplateSyntaxProblem, "syntax error on line 1"),
        ("{% if %}x{% endif %}", TemplateSyntaxProblem, "syntax error"),
        ("Hola {{ customer_email }}", UnknownVariableError, "customer_email"),
        ("{{ brand.__class__.__mro__ }}", SandboxViolationError, "not allowed"),
        ("{{ agent.__init__.__globals__ }}", SandboxViolationError, "not allowed"),
        ("{{ ''.__class__ }}", SandboxViolationError, "not allowed"),
    ],
)
def test_template_errors_are_clear(source: str, error: type[TemplateError], words: str) -> None:
    with pytest.raises(error) as raised:
        render_template(source, context())
    assert words in str(raised.value)
    assert isinstance(raised.value, TemplateError)


def test_sandbox_blocks_unsafe_calls() -> None:
    with pytest.raises(TemplateError):
        render_template("{{ brand.format.__self__.__class__ }}", context())
    with pytest.raises(TemplateError):
        render_template("{% for i in range(10**9) %}{{ i }}{% endfor %}", context())


def test_context_rejects_unknown_values() -> None:
    with pytest.raises(DraftContextError, match="reason"):
        context(reason="weather")
    with pytest.raises(DraftContextError, match="customer_lang"):
        context(customer_lang="fr")
    with pytest.raises(DraftContextError, match="agent_name"):
        context(agent_name=" ")
