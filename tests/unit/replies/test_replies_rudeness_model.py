"""The rudeness classifier: clauses, cue features, and scoring that matches training."""

from __future__ import annotations

from ventanilla.replies.lint.reply_text import ReplyText, fold
from ventanilla.replies.lint.rudeness_model import (
    CUE_REPEAT,
    clause_spans,
    cue_features,
    features,
    shipped_model,
    word_cues,
)
from ventanilla.replies.lint.rudeness_training import _probability, _sentences


def test_a_sentence_is_cut_into_clauses_at_semicolons_colons_and_contrasts() -> None:
    text = fold("Sentimos la espera, aunque no hacía falta escribir tanto; te escribimos hoy.")
    spans = clause_spans(text, 0, len(text))
    assert [text[start:end] for start, end in spans] == [
        "sentimos la espera",
        "aunque no hacia falta escribir tanto",
        "te escribimos hoy.",
    ]
    english = "sorry for the wait, but: we'll dm you today"
    assert [english[s:e] for s, e in clause_spans(english, 0, len(english))] == [
        "sorry for the wait",
        "but",
        "we'll dm you today",
    ]


def test_cue_classes_and_their_features() -> None:
    assert "you" in word_cues("usted")
    assert "ease" in word_cues("facilisimo")  # a stem: facil*
    assert word_cues("tren") == frozenset()
    found = cue_features({"you", "ease"})
    assert found.count("k:you+ease") == CUE_REPEAT
    assert "k:ease+you" not in found
    assert "k:you" in features("no es tan facil para usted")


def test_the_shipped_model_scores_clauses_exactly_as_training_does() -> None:
    model = shipped_model()
    assert model is not None
    replies = [
        "@ana Hola, Ana. No es tan complicado: el botón está arriba. Te escribimos por DM hoy.",
        "Hi Tom, sorry for the wait; we'll DM you before 6pm today. ^Lucy",
        "",
    ]
    for text in replies:
        for clause in _sentences(text):
            expected = _probability(features(clause), model.weights, model.intercept)
            assert abs(model.probability(clause, folded=True) - expected) < 1e-9


def test_a_model_finding_points_inside_the_reply() -> None:
    reply = ReplyText("Perdona. Vaya, qué lección nos has dado, experto; te escribimos hoy por DM.")
    for sentence in reply.sentences:
        for start, end in clause_spans(reply.folded, sentence.start, sentence.end):
            assert sentence.start <= start < end <= sentence.end
