"""The fast scoring path equals the explicit feature matrix times the weights."""

from __future__ import annotations

import numpy as np

from ventanilla.triage import features as F
from ventanilla.triage.model import Head, Triager

TEXTS = [
    "@AeroSol el vuelo llegó con dos horas de retraso!!",
    "Thanks @FlyNow, GREAT crew today 😀 http://t.co/x",
    "",
    "sooooo late again... #fail",
    "<b>hola</b> &amp; adiós",
]


def _tiny_triager() -> Triager:
    raw = F.raw_matrix(TEXTS)
    idf = F.fit_idf(raw)
    used = np.flatnonzero(np.bincount(raw.indices, minlength=F.N_FEATURES) > 0)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(len(used), 3)).astype(np.float32)
    heads = [Head("sentiment_en", ("negative", "neutral", "positive"), 0, "softmax")]
    return Triager(used, idf[used], theta, np.zeros(3), heads, "test")


def test_fast_scores_equal_matrix_product() -> None:
    t = _tiny_triager()
    fast = t._score(TEXTS).scores
    x = t.features(TEXTS)
    slow = np.asarray(x @ t.theta)
    np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)


def test_training_matrix_matches_prediction_features() -> None:
    t = _tiny_triager()
    raw = F.raw_matrix(TEXTS)
    idf = F.fit_idf(raw)
    x_train = F.weighted_matrix(TEXTS, idf)[:, t.used].toarray()
    x_pred = t.features(TEXTS).toarray()[:, 1:]
    np.testing.assert_allclose(x_train, x_pred, rtol=1e-3, atol=1e-4)


def test_rows_are_nearly_unit_norm_for_nonempty_texts() -> None:
    # The triage norm ignores features shared between tokens, so rows are ~1, not exactly 1.
    raw = F.raw_matrix(TEXTS)
    x = F.weighted_matrix(TEXTS, F.fit_idf(raw))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert norms[2] == 0.0
    assert np.all(np.abs(norms[[0, 1, 3, 4]] - 1.0) < 0.1)


def test_clean_text_bounds_and_strips_html() -> None:
    assert len(F.clean_text("a" * 5_000_000)) == F.MAX_CHARS
    assert F.clean_text("<p>hola &amp; adiós</p>").split() == ["hola", "&", "adiós"]
    assert F.clean_text(None) == ""
