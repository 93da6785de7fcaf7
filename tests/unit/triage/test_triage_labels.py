"""Labels on clear Spanish and English posts, and robustness on bad inputs."""

from __future__ import annotations

import pytest

from ventanilla.triage.model import Triager
from ventanilla.triage.result import TriageResult


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@AeroSol me habéis cancelado el vuelo y nadie me da una solución", "es"),
        ("Muchas gracias por la atención de hoy, todo perfecto", "es"),
        ("@FlyNow my flight was cancelled and nobody at the desk can help", "en"),
        ("Thanks for the great service today, the crew was lovely", "en"),
        ("Mon vol a été annulé et personne ne répond au téléphone", "other"),
        ("Мой рейс отменили и никто не помогает", "other"),
    ],
)
def test_language_of_clear_examples(triager: Triager, text: str, lang: str) -> None:
    result = triager.predict([text])[0]
    assert result.language.value == lang
    assert result.language.confidence > 0.6


def test_clear_spanish_complaint(triager: Triager) -> None:
    r = triager.predict(["@TeleFibra tres días sin internet, me cobráis la factura entera y "
                         "nadie lo soluciona. Vergüenza"])[0]
    assert r.complaint.value == "yes"
    assert r.sentiment.value == "negative"
    assert r.reason is not None
    assert r.offensive.value == "no"
    assert r.complaint.evidence, "the words behind the label are shown"


def test_clear_english_praise(triager: Triager) -> None:
    r = triager.predict(["@FlyNow thank you so much, the crew was amazing and we landed early!"])[0]
    assert r.sentiment.value == "positive"
    assert r.complaint.value == "no"
    assert r.intent.value == "praise"
    assert r.reason is None


def test_english_reason_lost_luggage(triager: Triager) -> None:
    r = triager.predict(["@FlyNow you lost my bag on the connection, three days and no news "
                         "about my luggage"])[0]
    assert r.reason is not None and r.reason.value == "lost"


def test_spanish_insult_is_offensive(triager: Triager) -> None:
    r = triager.predict(["@BancoTal sois una panda de ladrones, gilipollas"])[0]
    assert r.offensive.value == "yes"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😡😡😡", "http://t.co/abc123", "https://example.com/x?y=1 http://t.co/z",
     "@someone", "!!!???", "12345"],
)
def test_contentless_inputs_give_low_confidence(triager: Triager, text: str) -> None:
    r = triager.predict([text])[0]
    assert r.language.confidence <= 0.5
    assert r.sentiment.confidence <= 0.5
    assert r.complaint.confidence <= 0.6


def test_bad_inputs_never_crash(triager: Triager) -> None:
    texts = [
        "x" * 1_000_000,
        "vuelo " * 200_000,
        "<p>Hola <b>equipo</b>, mi pedido no ha llegado &amp; nadie responde</p>",
        "My flight was late pero el personal fue muy amable, gracias",
        "\x00\x1e\ufffd\ud800",
        "a\nb\tc\r\nd",
    ]
    results = triager.predict(texts)
    assert len(results) == len(texts)
    for r in results:
        assert isinstance(r, TriageResult)
        assert r.model_version == triager.version
        for label in (r.language, r.complaint, r.sentiment, r.offensive, r.intent):
            assert 0.0 <= label.confidence <= 1.0
    assert results[2].language.value == "es"


def test_label_batch_matches_predict(triager: Triager) -> None:
    texts = ["@AeroSol otra vez retraso", "@FlyNow thanks!", "", "¿A qué hora abrís?"]
    fast = triager.label_batch(texts, ("sentiment", "complaint", "language", "reason"))
    full = triager.predict(texts)
    assert list(fast["sentiment"]) == [r.sentiment.value for r in full]
    assert list(fast["complaint"]) == [r.complaint.value for r in full]
    assert list(fast["language"]) == [r.language.value for r in full]
    assert triager.label_batch([], ("sentiment",))["sentiment"].shape == (0,)
    with pytest.raises(ValueError):
        triager.label_batch(texts, ("colour",))
