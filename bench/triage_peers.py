"""Sentiment peers on one held-out split (80/20, stratified, seed 0) of the shared data.

ventanilla is re-trained on the 80% part with the shipped recipe (same features,
same C and LR/NB-LR mix; no class offsets), so the 20% part is unseen by it; its
posts/s is the shipped triager's first pass over the 20% part; VADER and a
majority-class baseline need no training. Prints macro-F1 and posts/s for each.

Usage: .venv/bin/python bench/triage_peers.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from ventanilla.triage import features as F  # noqa: E402
from ventanilla.triage.datasets import read_shared, shared_data_dir  # noqa: E402
from ventanilla.triage.model import Head, Triager, load_triager  # noqa: E402
from ventanilla.triage.taxonomy import SENTIMENTS  # noqa: E402
from ventanilla.triage.training import MIN_DF, HeadData, fit_head  # noqa: E402

C_BY_LANG = {"en": 3.0, "es": 2.0}


def _ventanilla(train_x: list[str], train_y: list[str], lang: str) -> Triager:
    """A one-head triager trained on the training part only."""
    raw = F.raw_matrix(train_x)
    df = np.bincount(raw.indices, minlength=F.N_FEATURES)
    idf = F.fit_idf(raw)
    idf[df < MIN_DF] = 0.0
    used = np.flatnonzero(df >= MIN_DF)
    x = F.weighted_matrix(train_x, idf)[:, used].tocsr()
    y = np.array(train_y)
    head = HeadData(f"sentiment_{lang}", SENTIMENTS, "softmax", C_BY_LANG[lang], nb_mix=0.5)
    theta, bias = fit_head(head, x, y, np.ones(len(y)))
    heads = [Head("sentiment_en", SENTIMENTS, 0, "softmax"),
             Head("sentiment_es", SENTIMENTS, 0, "softmax")]
    return Triager(used, idf[used], theta, bias, heads, "peers-split")


def _vader(texts: list[str]) -> list[str]:
    """VADER compound score with the usual +-0.05 thresholds."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = analyzer.polarity_scores(t)["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def main() -> None:
    """Print one row per (language, system)."""
    base: Path = shared_data_dir()
    print(f"{'set':22} {'system':26} {'macro-F1':>8} {'posts/s':>10}")
    for lang, name in (("en", "airline-tweets-en"), ("es", "airline-tweets-es")):
        if not (base / name / "dev.csv").exists():
            print(f"{name}: shared data not found at {base}")
            continue
        rows = read_shared(name, base)
        texts = [r["text"] for r in rows]
        labels = [r["sentiment"] for r in rows]
        tr_x, te_x, tr_y, te_y = train_test_split(texts, labels, test_size=0.2,
                                                  stratify=labels, random_state=0)
        model = _ventanilla(tr_x, tr_y, lang)
        head = f"sentiment_{lang}"
        pred_idx = model._proba(model._score(te_x), head).argmax(axis=1)
        pred = [SENTIMENTS[i] for i in pred_idx]
        # speed: the shipped triager (all heads computed, sentiment returned), first pass
        shipped = load_triager()
        start = time.perf_counter()
        shipped.label_batch(te_x, ("sentiment",))
        rate = len(te_x) / (time.perf_counter() - start)
        print(f"{name:22} {'ventanilla (split-trained)':26} "
              f"{f1_score(te_y, pred, average='macro'):8.3f} {rate:10,.0f}")
        start = time.perf_counter()
        vader = _vader(te_x)
        rate = len(te_x) / (time.perf_counter() - start)
        print(f"{name:22} {'VADER':26} {f1_score(te_y, vader, average='macro'):8.3f} "
              f"{rate:10,.0f}")
        major = Counter(tr_y).most_common(1)[0][0]
        print(f"{name:22} {'majority class':26} "
              f"{f1_score(te_y, [major] * len(te_y), average='macro'):8.3f} {'-':>10}")


if __name__ == "__main__":
    main()
