"""Reproducible training of the rudeness classifier from the `train` split of a labelled CSV.

The classifier reads one clause at a time (a reply is as rude as its rudest clause).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold

from ventanilla.replies.labelled_set import SHIPPED_SET, read_labelled_set
from ventanilla.replies.lint.phrases import ACTION, CARE, RUDENESS
from ventanilla.replies.lint.reply_text import ReplyText, fold
from ventanilla.replies.lint.rudeness_model import MODEL_PATH, clause_spans, features

MIN_DOCUMENT_FREQUENCY = 2
KEPT_WEIGHTS = 6000
REGULARISATION_C = 3.0
CLASSIFIER_PRECISION = 0.9
MAX_THRESHOLD = 0.95
MIN_PREDICTED = 3
HINT_THRESHOLD = 0.5
SEED = 13
FOLDS = 5
REPEATS = 3


def _matrix(rows: list[list[str]], vocabulary: dict[str, int]) -> csr_matrix:
    """Feature counts over the square root of the text's feature count, as the model scores."""
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for found in rows:
        scale = 1.0 / math.sqrt(len(found)) if found else 0.0
        counts = Counter(vocabulary[f] for f in found if f in vocabulary)
        for column in sorted(counts):
            indices.append(column)
            data.append(counts[column] * scale)
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(rows), len(vocabulary)))


def _fit(rows: list[list[str]], labels: np.ndarray) -> tuple[dict[str, float], float]:
    counts: dict[str, int] = {}
    for found in rows:
        for feature in set(found):
            counts[feature] = counts.get(feature, 0) + 1
    kept = sorted(f for f, n in counts.items() if n >= MIN_DOCUMENT_FREQUENCY)
    vocabulary = {feature: index for index, feature in enumerate(kept)}
    model = LogisticRegression(
        C=REGULARISATION_C, class_weight="balanced", max_iter=5000, solver="liblinear"
    )
    model.fit(_matrix(rows, vocabulary), labels)
    coefficients = model.coef_[0]
    order = np.argsort(-np.abs(coefficients))[:KEPT_WEIGHTS]
    weights = {kept[i]: round(float(coefficients[i]), 5) for i in sorted(order)}
    return weights, float(model.intercept_[0])


def _probability(found: list[str], weights: dict[str, float], intercept: float) -> float:
    if not found:
        return 1.0 / (1.0 + math.exp(-intercept))
    score = sum(weights.get(f, 0.0) for f in found) / math.sqrt(len(found)) + intercept
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


def _threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The lowest threshold at which the classifier alone is precise enough out-of-fold.

    It is judged on its own, over every train reply, not together with the word lists: the
    lists were written while reading the train split, so on train they catch far more than on
    unseen replies (0.80 against 0.45 on the test split today) and would hide the classifier's
    false alarms. Nor only on the replies the lists miss: those are the hardest rude replies of
    train, an unfair sample. CLASSIFIER_PRECISION is the goal's own 0.90: at 0.85 (threshold
    0.84) one of our default drafts and a good test reply got a medium finding. When no
    threshold reaches it, the cap makes the classifier a source of `low` hints.
    """
    for threshold in np.arange(0.30, MAX_THRESHOLD + 0.001, 0.01):
        predicted = probabilities >= threshold
        if predicted.sum() >= MIN_PREDICTED and labels[predicted].mean() >= CLASSIFIER_PRECISION:
            return round(float(threshold), 2)
    return MAX_THRESHOLD


MIN_SENTENCE_WORDS = 4


def _sentences(text: str) -> list[str]:
    """The clauses of a reply, folded, as the linter scores them."""
    reply = ReplyText(text)
    return [
        reply.folded[start:end]
        for span in reply.sentences
        for start, end in clause_spans(reply.folded, span.start, span.end)
    ]


def _training_sentences(text: str, rude: bool) -> list[str]:
    """Clauses to learn from: all of a polite reply; the likely culprits of a rude one.

    Labels are per reply, so in a rude reply we keep as positives only the clauses without
    the thanks, apology or next-step wording that polite replies share, and with 4+ words.
    """
    sentences = _sentences(text)
    if not rude:
        return sentences
    kept = []
    for sentence in sentences:
        if len(sentence.split()) < MIN_SENTENCE_WORDS:
            continue
        if any(sets[lang].search(sentence) for sets in (CARE, ACTION) for lang in sets):
            continue
        kept.append(sentence)
    return kept or [s for s in sentences if len(s.split()) >= MIN_SENTENCE_WORDS] or sentences


def _reply_probability(text: str, weights: dict[str, float], intercept: float) -> float:
    return max(
        (_probability(features(sentence), weights, intercept) for sentence in _sentences(text)),
        default=0.0,
    )


def _sentence_rows(
    texts: list[str], labels: np.ndarray
) -> tuple[list[list[str]], np.ndarray]:
    rows: list[list[str]] = []
    sentence_labels: list[int] = []
    for text, label in zip(texts, labels, strict=True):
        for sentence in _training_sentences(text, bool(label)):
            rows.append(features(sentence))
            sentence_labels.append(int(label))
    return rows, np.array(sentence_labels)


def train_rudeness_model(
    csv_path: str | Path = SHIPPED_SET, out: str | Path = MODEL_PATH
) -> dict[str, object]:
    """Train on the `train` split of `csv_path`, write the model JSON to `out`, return a summary.

    The decision threshold is chosen on out-of-fold predictions of the training split (5 folds,
    repeated 3 times with different shuffles, probabilities averaged), never on the test split,
    so the test split stays an honest estimate.
    """
    replies = read_labelled_set(csv_path, split="train")
    if not replies:
        raise ValueError(f"{csv_path}: no rows with split=train")
    texts = [reply.text for reply in replies]
    labels = np.array([1 if "rudeness" in reply.rules else 0 for reply in replies])
    if labels.sum() < 5 or labels.sum() == len(labels):
        raise ValueError(f"{csv_path}: need both rude and polite replies in the train split")
    out_of_fold = np.zeros(len(texts))
    folds = RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=REPEATS, random_state=SEED)
    for fit_index, held_index in folds.split(np.zeros(len(texts)), labels):
        rows, row_labels = _sentence_rows([texts[i] for i in fit_index], labels[fit_index])
        weights, intercept = _fit(rows, row_labels)
        for i in held_index:
            out_of_fold[i] += _reply_probability(texts[i], weights, intercept) / REPEATS
    hits = np.array(
        [any(RUDENESS[lang].search(fold(text)) for lang in RUDENESS) for text in texts]
    )
    threshold = _threshold(out_of_fold, labels)
    rows, row_labels = _sentence_rows(texts, labels)
    weights, intercept = _fit(rows, row_labels)
    digest = hashlib.sha256(
        json.dumps([weights, round(intercept, 5), threshold], sort_keys=True).encode()
    ).hexdigest()[:12]
    predicted = hits | (out_of_fold >= threshold)
    summary: dict[str, object] = {
        "version": f"rudeness-lr-{digest}",
        "trained_on": len(texts),
        "sentences": len(rows),
        "rude": int(labels.sum()),
        "threshold": threshold,
        "hint_threshold": min(HINT_THRESHOLD, threshold),
        "word_list_recall": round(float(hits[labels == 1].mean()), 3),
        "oof_precision": round(float(labels[predicted].mean()), 3) if predicted.any() else 0.0,
        "oof_recall": round(float(predicted[labels == 1].mean()), 3),
        "oof_auc": round(float(roc_auc_score(labels, out_of_fold)), 3),
        "features": len(weights),
    }
    document = {**summary, "intercept": round(intercept, 5), "weights": weights}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(document, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return summary
