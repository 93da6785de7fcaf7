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
    "@united's 10:30am flight... delayed/cancelled?! (https://t.co/abc) :) :-( ¡¡ ...",
    "www.example.com/x — GREAT!!! great",
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


def test_fast_scores_are_the_same_in_any_batch_order() -> None:
    # chunk rows are sums of cached sub-token rows: a chunk first met inside another
    # batch (or after its sub-tokens were cached) must score identically
    t = _tiny_triager()
    together = t._score(TEXTS).scores
    fresh = _tiny_triager()
    one_by_one = np.vstack([fresh._score([text]).scores for text in reversed(TEXTS)])[::-1]
    np.testing.assert_allclose(together, one_by_one, rtol=1e-6, atol=1e-9)


def test_type_table_gives_the_same_scores() -> None:
    t = _tiny_triager()
    plain = t._score(TEXTS).scores
    tabled = _tiny_triager()
    assert tabled.build_type_table(TEXTS[:3], min_count=1) > 0
    np.testing.assert_allclose(tabled._score(TEXTS).scores, plain, rtol=1e-5, atol=1e-6)


def test_string_keys_are_stable_and_distinct() -> None:
    words = ["a", "ab", "ba", "vuelo", "vuelos", "ñandú", "😀", "x" * 5000]
    keys = F.string_keys(words)
    assert len(set(keys.tolist())) == len(words)
    np.testing.assert_array_equal(keys, F.string_keys(list(words)))
    assert F.string_keys(["ab"])[0] == keys[1]


def test_lexicon_words_get_polarity_features() -> None:
    before = F.current_lexicon()
    try:
        F.set_lexicon(F.lexicon_from_words({"great": 3.1, "awful": -2.0, ":)": 2.0}))
        rows = F.subtoken_rows(["GREAT", "awful", ":)", "flight"]).matrix
        pos, neg = F._mix(np.array([F.string_key("<lex+>"), F.string_key("<lex->")],
                                   dtype=np.uint64))
        assert rows[0, pos] > 0 and rows[1, neg] > 0 and rows[2, pos] > 0
        assert rows[3, pos] == 0 and rows[3, neg] == 0
    finally:
        F.set_lexicon(before)


def test_clean_text_bounds_and_strips_html() -> None:
    assert len(F.clean_text("a" * 5_000_000)) == F.MAX_CHARS
    assert F.clean_text("<p>hola &amp; adiós</p>").split() == ["hola", "&", "adiós"]
    assert F.clean_text(None) == ""
