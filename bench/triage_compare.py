"""Model choice by measurement: 5-fold CV macro-F1 and featurise+predict speed of alternatives.

Compares, on the shared sentiment sets (and complaints-en):
  * reference: sklearn word(1-2) + char_wb(2-5) TF-IDF, logistic regression;
  * ventanilla: hashed shared featuriser, logistic regression (class-balanced);
  * ventanilla features + LinearSVC; ventanilla features + ComplementNB.

Usage: nice .venv/bin/python bench/triage_compare.py [--sets airline-tweets-en,...]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.naive_bayes import ComplementNB  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from ventanilla.triage import features as F  # noqa: E402
from ventanilla.triage.datasets import read_shared  # noqa: E402

LABEL_COLUMN = {"airline-tweets-en": "sentiment", "airline-tweets-es": "sentiment",
                "complaints-en": "complaint"}

Featuriser = Callable[[list[str], list[str]], tuple[sp.csr_matrix, sp.csr_matrix]]


def _reference(train: list[str], test: list[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Word + char TF-IDF fitted on the training fold."""
    word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    a = sp.hstack([word.fit_transform(train), char.fit_transform(train)]).tocsr()
    b = sp.hstack([word.transform(test), char.transform(test)]).tocsr()
    return a, b


def _ventanilla(train: list[str], test: list[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The shared hashed featuriser with IDF from the training fold (min_df 2)."""
    raw = F.raw_matrix(train)
    df = np.bincount(raw.indices, minlength=F.N_FEATURES)
    idf = F.fit_idf(raw)
    idf[df < 2] = 0.0
    used = np.flatnonzero(df >= 2)
    return (F.weighted_matrix(train, idf)[:, used].tocsr(),
            F.weighted_matrix(test, idf)[:, used].tocsr())


def _models() -> dict[str, Callable[[], object]]:
    return {
        "LR": lambda: LogisticRegression(C=3.0, max_iter=300, tol=1e-3,
                                         class_weight="balanced"),
        "LinearSVC": lambda: LinearSVC(C=0.3, class_weight="balanced"),
        "ComplementNB": lambda: ComplementNB(alpha=0.3),
    }


def main() -> None:
    """Print one row per (set, featuriser, model): macro-F1 mean ± sd and texts/s."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="airline-tweets-en,airline-tweets-es,complaints-en")
    args = parser.parse_args()
    feats: dict[str, Featuriser] = {"reference tfidf": _reference, "ventanilla hashed": _ventanilla}
    print(f"{'set':20} {'features':18} {'model':13} {'macro-F1':>15} {'feat+pred texts/s':>18}")
    for name in args.sets.split(","):
        col = LABEL_COLUMN[name]
        rows = [r for r in read_shared(name) if r[col]]
        texts = [r["text"] for r in rows]
        y = np.array([r[col] for r in rows])
        skf = StratifiedKFold(5, shuffle=True, random_state=0)
        for fname, feat in feats.items():
            models = _models() if fname == "ventanilla hashed" else {"LR": _models()["LR"]}
            scores: dict[str, list[float]] = {m: [] for m in models}
            rates: dict[str, list[float]] = {m: [] for m in models}
            for tr, te in skf.split(texts, y):
                train = [texts[i] for i in tr]
                test = [texts[i] for i in te]
                start = time.perf_counter()
                xa, xb = feat(train, test)
                fit_time = time.perf_counter() - start
                test_share = fit_time * len(test) / (len(train) + len(test))
                for mname, make in models.items():
                    model = make()
                    model.fit(xa, y[tr])  # type: ignore[attr-defined]
                    start = time.perf_counter()
                    pred = model.predict(xb)  # type: ignore[attr-defined]
                    elapsed = time.perf_counter() - start + test_share
                    scores[mname].append(float(f1_score(y[te], pred, average="macro")))
                    rates[mname].append(len(test) / elapsed)
            for mname in models:
                s = np.array(scores[mname])
                print(f"{name:20} {fname:18} {mname:13} {s.mean():8.3f} ± {s.std():.3f} "
                      f"{np.mean(rates[mname]):18,.0f}", flush=True)


if __name__ == "__main__":
    main()
