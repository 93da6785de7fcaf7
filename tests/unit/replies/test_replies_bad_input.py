"""Odd input never crashes the linter or the drafts: empty, huge, emoji, HTML, odd encodings."""

from __future__ import annotations

import pytest

from ventanilla.replies.draft_context import DraftContext
from ventanilla.replies.drafts import draft
from ventanilla.replies.lint import lint
from ventanilla.replies.lint.rudeness_model import shipped_model


def run(text: str, **options: object) -> list[str]:
    settings: dict[str, object] = {"customer_lang": "es", "public": True, "network": "x"}
    settings.update(options)
    return [f.rule for f in lint(text, **settings)]  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_reply_has_nothing_to_lint(text: str) -> None:
    assert run(text) == []


def test_one_megabyte_reply_is_linted() -> None:
    text = ("Gracias y perdona el retraso. ESCRÍBENOS YA. Te llamamos al 612 345 678. " * 15000)[:1_000_000]
    rules = run(text)
    assert "too_long" in rules and "personal_data_public" in rules


@pytest.mark.parametrize(
    "text",
    ["x" * 1_000_000, "." * 1_000_000, "@" * 1_000_000, "a@b." * 250_000, "?" * 1_000_000,
     "https://" * 100_000, "¿" * 1_000_000, "1 " * 500_000, "CAPS " * 200_000, "🙂" * 300_000],
    ids=["letters", "dots", "ats", "emails", "questions", "links", "inverted", "digits", "caps",
         "emoji"],
)
def test_pathological_megabyte_inputs_finish(text: str) -> None:
    # These once took quadratic time in a regex; each now takes well under a second or two.
    findings = lint(text, customer_lang="es", public=True, network="x")
    assert all(0 <= f.start <= f.end <= len(text) for f in findings)


def test_emoji_html_and_control_characters() -> None:
    for text in (
        "🙂🙂🙂 Gracias 🙏 y perdona 😔. Escríbenos por DM y te respondemos hoy. ^Ana 👍",
        "<script>alert('x')</script> Gracias y perdona. <b>Escríbenos</b> por DM hoy.",
        "Gracias\x00 y perdona\u200b\u202e. Escríbenos por DM hoy.",
        "İSTANBUL ǅ ß ﬁ ＡＢＣ — gracias y perdona, te escribimos hoy por DM",
        "\ud800 mal codificado",
    ):
        for finding_rule in run(text):
            assert isinstance(finding_rule, str)
    spans = lint("İİİ Gracias y PERDONA EL RETRASO hoy", customer_lang="es", public=True)
    text = "İİİ Gracias y PERDONA EL RETRASO hoy"
    assert all(0 <= f.start <= f.end <= len(text) for f in spans)


def test_unknown_language_and_network_are_tolerated() -> None:
    assert isinstance(run("Obrigado, vamos responder hoje por DM.", customer_lang="pt", network="orkut"), list)
    assert isinstance(run("Gracias y perdona.", network=None), list)


def test_lint_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        lint(b"bytes", customer_lang="es", public=True)  # type: ignore[arg-type]


def test_draft_values_with_html_and_newlines_stay_plain_text() -> None:
    ctx = DraftContext(
        customer_lang="es", reason="late", intent="wants_fix", stage="first_public",
        public=True, network="facebook", customer_name="<b>Ana</b>\nRuiz",
        agent_name="Lucía {{ 7*7 }}", brand="Ñandú & Cía",
    )
    text = draft(ctx).text
    assert "\n" not in text
    assert "{{ 7*7 }}" in text  # values are data, never rendered as template code
    assert "<b>Ana</b> Ruiz" in text  # escaping is the web layer's job on display


def test_shipped_model_is_small_and_loads() -> None:
    model = shipped_model()
    assert model is not None
    assert 0.0 < model.threshold <= 1.0
    assert len(model.weights) <= 10_000
