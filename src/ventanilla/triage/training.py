"""Reproducible training of all triage heads from the shared data and our own fixtures.

Every head is a logistic regression on the same hashed features (see ``features``).
Cross-validation is 5-fold (stratified, seed 0) on each head's *primary* data set;
auxiliary data (weak labels, other languages, our fixtures) is always in the
training part only. Class offsets that maximise macro-F1 are chosen on the
out-of-fold probabilities and folded into the biases.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from ventanilla.triage import features as F
from ventanilla.triage.datasets import read_fixture, read_shared, shared_data_dir
from ventanilla.triage.model import ARTIFACTS_DIR, Head, Triager
from ventanilla.triage.taxonomy import LANGUAGES, REASON_CODES, SENTIMENTS, reason_code

SEED = 0
FOLDS = 5
MIN_DF = 2
CORRECTION_WEIGHT = 3.0
TYPE_TABLE_MIN_COUNT = 1
USE_LEXICON = True
JOBS_ENV = "VENTANILLA_TRAIN_JOBS"
"""Processes used to train the heads in parallel (default 1; results do not depend on it)."""
Progress = Callable[[str], None]


@dataclass(slots=True)
class HeadData:
    """Training rows of one head: primary rows are cross-validated, extra rows only trained on."""

    name: str
    classes: tuple[str, ...]
    kind: str
    c: float
    nb_mix: float = 0.0
    tol: float = 1e-4
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    primary: list[bool] = field(default_factory=list)
    group: list[str] = field(default_factory=list)

    def add(self, texts: Iterable[str], labels: Iterable[str], weight: float = 1.0,
            primary: bool = False, group: str = "") -> None:
        """Append rows with one weight; ``primary`` rows are the ones cross-validated."""
        for t, y in zip(texts, labels, strict=True):
            if y not in self.classes:
                continue
            self.texts.append(t)
            self.labels.append(y)
            self.weights.append(weight)
            self.primary.append(primary)
            self.group.append(group)


def _sample(rows: list[dict[str, str]], n: int, seed: int = SEED) -> list[dict[str, str]]:
    """A reproducible random sample of at most n rows."""
    if len(rows) <= n:
        return rows
    return random.Random(seed).sample(rows, n)


def build_heads(data_dir: Path, corrections: Iterable[tuple[str, str, str]] = ()
                ) -> list[HeadData]:
    """Assemble the training rows of every head (see docs/triage.md for the recipe)."""
    air_en = read_shared("airline-tweets-en", data_dir)
    air_es = read_shared("airline-tweets-es", data_dir)
    comp_en = read_shared("complaints-en", data_dir)
    off_en = read_shared("offensive-en", data_dir)
    other = read_fixture("lang_other.csv")
    comp_es = read_fixture("complaints_es.csv")
    reasons_es = read_fixture("reasons_es.csv")
    insults_es = read_fixture("offensive_es.csv")

    lang = HeadData("language", LANGUAGES, "softmax", 10.0, tol=1e-3)
    lang.add([r["text"] for r in air_en], ["en"] * len(air_en), primary=True, group="en")
    lang.add([r["text"] for r in air_es], ["es"] * len(air_es), primary=True, group="es")
    lang.add([r["text"] for r in comp_en], ["en"] * len(comp_en), primary=True, group="en")
    off_sample = _sample(off_en, 4000)
    lang.add([r["text"] for r in off_sample], ["en"] * len(off_sample), primary=True, group="en")
    lang.add([r["text"] for r in other], [r["lang"] for r in other], weight=8.0, primary=True,
             group="other")
    spanish_own = comp_es + reasons_es + insults_es
    lang.add([r["text"] for r in spanish_own], ["es"] * len(spanish_own), weight=2.0,
             group="es-own")

    comp = HeadData("complaint", ("no", "yes"), "sigmoid", 4.0)
    comp.add([r["text"] for r in comp_en], [r["complaint"] for r in comp_en], primary=True,
             group="complaints-en")
    # Airline-en negatives/positives as weak complaint labels (weight 0.25) cost 2 points of
    # complaints-en CV (0.788 vs 0.809) and are no longer used. Without any weak "no" rows
    # the Spanish side says "yes" to almost everything (complaints_es "no" recall 0.37), so
    # Spanish airline positives are weak "no" rows (see docs/triage.md for the figures).
    es_pos = [r for r in air_es if r["sentiment"] == "positive"]
    comp.add([r["text"] for r in es_pos], ["no"] * len(es_pos), weight=0.25,
             group="airline-es-weak")
    comp.add([r["text"] for r in comp_es], [r["complaint"] for r in comp_es], weight=1.0,
             group="complaints-es")
    comp.add([r["text"] for r in reasons_es], ["yes"] * len(reasons_es), weight=0.5,
             group="reasons-es")

    sent_en = HeadData("sentiment_en", SENTIMENTS, "softmax", 3.0, nb_mix=0.5)
    sent_en.add([r["text"] for r in air_en], [r["sentiment"] for r in air_en], primary=True,
                group="airline-en")
    sent_es = HeadData("sentiment_es", SENTIMENTS, "softmax", 2.0, nb_mix=0.5)
    sent_es.add([r["text"] for r in air_es], [r["sentiment"] for r in air_es], primary=True,
                group="airline-es")

    reason = HeadData("reason", REASON_CODES, "softmax", 3.0)
    neg = [r for r in air_en if r["reason"]]
    reason.add([r["text"] for r in neg], [reason_code(r["reason"]) for r in neg], primary=True,
               group="airline-en")
    reason.add([r["text"] for r in reasons_es], [r["reason"] for r in reasons_es], weight=1.0,
               group="reasons-es")

    off = HeadData("offensive", ("no", "yes"), "sigmoid", 12.0)
    off.add([r["text"] for r in off_en], [r["offensive"] for r in off_en], primary=True,
            group="offensive-en")
    brand_no = _sample([r for r in air_en], 2500) + comp_en
    off.add([r["text"] for r in brand_no], ["no"] * len(brand_no), weight=0.5, group="brand-en")
    es_no = _sample(air_es, 1500) + comp_es + reasons_es
    off.add([r["text"] for r in es_no], ["no"] * len(es_no), weight=0.5, group="brand-es")
    off.add([r["text"] for r in insults_es], [r["offensive"] for r in insults_es], weight=2.0,
            group="offensive-es")

    heads = [lang, comp, sent_en, sent_es, reason, off]
    by_name = {h.name: h for h in heads}
    for text, label, value in corrections:
        target = label
        if label == "sentiment":
            target = "sentiment_es" if _looks_spanish(text) else "sentiment_en"
        if label == "reason":
            value = reason_code(value)
        if target in by_name:
            by_name[target].add([text], [value], weight=CORRECTION_WEIGHT, group="corrections")
    return heads


_ES_HINTS = frozenset(
    ("que", "de", "el", "la", "los", "las", "por", "para", "con", "mi", "no", "es", "una", "un",
     "muy", "pero", "ya", "y")
)
_EN_HINTS = frozenset(
    ("the", "to", "and", "my", "you", "is", "for", "of", "it", "on", "in", "your", "with",
     "not", "this", "was")
)


def _looks_spanish(text: str) -> bool:
    """A crude word-list guess used only to route corrections to a sentiment head."""
    words = text.lower().split()
    return sum(w in _ES_HINTS for w in words) > sum(w in _EN_HINTS for w in words)


def _fit(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, c: float, tol: float = 1e-4
         ) -> LogisticRegression:
    """One logistic regression (lbfgs, balanced classes, fixed seed)."""
    classes, counts = np.unique(y, return_counts=True)
    balance = {k: len(y) / (len(classes) * n) for k, n in zip(classes, counts, strict=True)}
    sw = w * np.array([balance[v] for v in y])
    model = LogisticRegression(C=c, max_iter=1000, tol=tol, random_state=SEED)
    model.fit(x, y, sample_weight=sw)
    return model


def _nb_ratio(x: sp.csr_matrix, positive: np.ndarray) -> np.ndarray:
    """Naive-Bayes log-count ratio of each feature for ``positive`` vs the other rows."""
    xb = (x > 0).astype(np.float64)
    p = np.asarray(xb[positive].sum(axis=0)).ravel() + 1.0
    q = np.asarray(xb[~positive].sum(axis=0)).ravel() + 1.0
    ratio: np.ndarray = np.log((p / p.sum()) / (q / q.sum()))
    return ratio


def fit_head(h: HeadData, x: sp.csr_matrix, y: np.ndarray, w: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x width) and bias of one head.

    Plain logistic regression, or — when ``h.nb_mix`` > 0 — a mix of its logits with
    those of one-vs-rest NB-LR models (logistic regression on features scaled by NB
    log-count ratios). Both are linear in the features, so the mix is one linear head.
    """
    theta, bias = _head_weights(_fit(x, y, w, h.c, h.tol), h, x.shape[1])
    if h.nb_mix <= 0:
        return theta, bias
    targets = ["yes"] if h.kind == "sigmoid" else list(h.classes)
    nb_theta = np.zeros_like(theta)
    nb_bias = np.full_like(bias, -30.0)
    for k, cls in enumerate(targets):
        positive = y == cls
        if not positive.any() or positive.all():
            continue
        ratio = _nb_ratio(x, positive)
        model = _fit(x @ sp.diags(ratio), np.where(positive, "yes", "no"), w, h.c, h.tol)
        sign = 1.0 if str(model.classes_[1]) == "yes" else -1.0
        nb_theta[:, k] = sign * model.coef_[0] * ratio
        nb_bias[k] = sign * model.intercept_[0]
    a = h.nb_mix
    return (1 - a) * theta + a * nb_theta, (1 - a) * bias + a * nb_bias


def head_proba(theta: np.ndarray, bias: np.ndarray, x: sp.csr_matrix, kind: str) -> np.ndarray:
    """Class probabilities of a linear head (sigmoid heads give [no, yes])."""
    s = np.asarray(x @ theta) + bias[None, :]
    if kind == "sigmoid":
        p1 = 1.0 / (1.0 + np.exp(-s[:, 0]))
        return np.stack([1.0 - p1, p1], axis=1)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 of class indices over the classes in ``y`` or ``pred`` (as sklearn's)."""
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    present = (support > 0) | (predicted > 0)
    denom = (support + predicted).astype(np.float64)
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def _tune_offsets(proba: np.ndarray, y: np.ndarray, classes: list[str]) -> np.ndarray:
    """Per-class log-offsets that maximise macro-F1 on out-of-fold probabilities."""
    logp = np.log(np.clip(proba, 1e-9, 1.0))
    offsets = np.zeros(len(classes))
    index = {c: i for i, c in enumerate(classes)}
    y_idx = np.array([index[v] for v in y.tolist()], dtype=np.int64)
    k = len(classes)

    def score(off: np.ndarray) -> float:
        return _macro_f1(y_idx, (logp + off).argmax(axis=1), k)

    best = score(offsets)
    grid = np.linspace(-1.5, 1.5, 13)
    for _ in range(2):
        for j in range(k):
            for g in grid:
                trial = offsets.copy()
                trial[j] = g
                s = score(trial)
                if s > best + 1e-4:
                    best, offsets = s, trial
    return offsets


def _report(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict[str, object]:
    """Macro-F1, accuracy and per-class P/R/F1 of a prediction."""
    present = [c for c in classes if c in set(y.tolist())]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=present, zero_division=0)
    return {
        "macro_f1": round(float(np.mean(f)), 4),
        "accuracy": round(float(np.mean(y == pred)), 4),
        "n": len(y),
        "per_class": {c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                          "f1": round(float(f[i]), 4), "support": int(s[i])}
                      for i, c in enumerate(present)},
    }


def _head_weights(model: LogisticRegression, head: HeadData, n_features: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x width) and bias (width) in the head's class order."""
    classes = list(head.classes)
    if head.kind == "sigmoid":
        sign = 1.0 if str(model.classes_[1]) == "yes" else -1.0
        return sign * model.coef_.T.copy(), sign * model.intercept_.copy()
    theta = np.zeros((n_features, len(classes)))
    bias = np.full(len(classes), -30.0)
    coef = model.coef_
    intercept = model.intercept_
    if len(model.classes_) == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    for j, c in enumerate(model.classes_):
        theta[:, classes.index(str(c))] = coef[j]
        bias[classes.index(str(c))] = intercept[j]
    return theta, bias


def train(data_dir: Path | None = None, out_dir: Path | None = None,
          corrections: Iterable[tuple[str, str, str]] = (),
          progress: Progress | None = None, cross_validate: bool = True) -> dict[str, object]:
    """Train every head, cross-validate, write artefacts; return the CV figures."""
    say = progress or (lambda _msg: None)
    data_dir = data_dir or shared_data_dir()
    out_dir = out_dir or ARTIFACTS_DIR
    np.random.seed(SEED)
    _install_lexicon(out_dir)
    heads = build_heads(data_dir, list(corrections))
    say("featurising")
    index: dict[str, int] = {}
    for h in heads:
        for t in h.texts:
            index.setdefault(t, len(index))
    all_texts = list(index)
    raw = F.raw_matrix(all_texts)
    df = np.bincount(raw.indices, minlength=F.N_FEATURES)
    idf = F.fit_idf(raw)
    idf[df < MIN_DF] = 0.0
    x_all = F.weighted_matrix(all_texts, idf)
    used = np.flatnonzero(df >= MIN_DF)
    x_all = x_all[:, used].tocsr()
    say(f"{len(all_texts)} texts, {len(used)} features")

    figures: dict[str, object] = {}
    thetas: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    head_specs: list[Head] = []
    start = 0
    tasks = [(h, x_all[np.array([index[t] for t in h.texts])], cross_validate) for h in heads]
    jobs = max(1, int(os.environ.get(JOBS_ENV, "1")))
    say(f"{'cross-validating and ' if cross_validate else ''}fitting {len(heads)} heads "
        f"({jobs} process{'es' if jobs > 1 else ''})")
    if jobs > 1:
        done = Parallel(n_jobs=min(jobs, len(tasks)), backend="loky", max_nbytes=None)(
            delayed(_train_head)(*task) for task in tasks)
    else:
        done = [_train_head(*task) for task in tasks]
    for h, (head_figures, theta, bias) in zip(heads, done, strict=True):
        if head_figures is not None:
            figures[h.name] = head_figures
        thetas.append(theta)
        biases.append(bias)
        spec = Head(h.name, h.classes, start, h.kind)
        head_specs.append(spec)
        start += spec.width
    theta_all = np.hstack(thetas).astype(np.float32)
    bias_all = np.concatenate(biases)
    digest = hashlib.sha256(theta_all.astype(np.float16).tobytes()).hexdigest()[:8]
    version = f"triage-{datetime.now(UTC):%Y%m%d}-{digest}"
    meta: dict[str, object] = {"cv": figures, "trained_at": datetime.now(UTC).isoformat(),
                               "n_texts": len(all_texts), "n_features": len(used)}
    triager = Triager(used, idf[used], theta_all, bias_all, head_specs, version, meta)
    say("precomputing frequent chunk types")
    triager.meta["type_table"] = triager.build_type_table(all_texts,
                                                          min_count=TYPE_TABLE_MIN_COUNT)
    triager.save(out_dir)
    say(f"wrote {out_dir} ({version})")
    (out_dir / "cv.json").write_text(json.dumps(figures, indent=2))
    return {"version": version, "cv": figures, "out_dir": str(out_dir)}


def _train_head(h: HeadData, x: sp.csr_matrix, cross_validate: bool
                ) -> tuple[dict[str, object] | None, np.ndarray, np.ndarray]:
    """Cross-validate (optionally) and fit one head; offsets are folded into the bias."""
    y = np.array(h.labels)
    w = np.array(h.weights)
    prim = np.array(h.primary)
    classes = list(h.classes)
    offsets = np.zeros(len(classes))
    head_figures: dict[str, object] | None = None
    if cross_validate:
        head_figures = _cross_validate(h, x, y, w, prim, classes)
        offsets = np.array(head_figures.pop("_offsets"))
    theta, bias = fit_head(h, x, y, w)
    bias = bias + ((offsets[1] - offsets[0]) if h.kind == "sigmoid" else offsets)
    return head_figures, theta, bias


def _install_lexicon(out_dir: Path) -> None:
    """Polarity lexicon features: VADER's lexicon (MIT, from the vaderSentiment package)
    hashed into ``lexicon.npz``; without the package the shipped lexicon is kept."""
    try:
        import vaderSentiment
    except ImportError:
        F.set_lexicon(F.load_lexicon(out_dir / "lexicon.npz") or F.load_lexicon())
        F.save_lexicon(F.current_lexicon(), out_dir / "lexicon.npz")
        return
    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    words: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            words[parts[0]] = float(parts[1])
    valence = F.lexicon_from_words(words) if USE_LEXICON else {}
    F.set_lexicon(valence)
    F.save_lexicon(valence, out_dir / "lexicon.npz")


def _cross_validate(h: HeadData, x: sp.csr_matrix, y: np.ndarray, w: np.ndarray,
                    prim: np.ndarray, classes: list[str]) -> dict[str, object]:
    """5-fold CV on the primary rows; extra rows always train. Spanish fixtures: own CV."""
    groups = np.array(h.group)
    out: dict[str, object] = {}
    # evaluate primary data and each own-fixture group separately
    eval_groups = {"primary": prim}
    for g in ("complaints-es", "reasons-es", "offensive-es", "es-own"):
        mask = groups == g
        if mask.any() and not prim[mask].any():
            eval_groups[g] = mask
    oof = np.zeros((len(y), len(classes)))
    fold_of = np.full(len(y), -1)
    done = np.zeros(len(y), dtype=bool)
    for mask in eval_groups.values():
        idx = np.flatnonzero(mask)
        skf = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
        strat = y[idx]
        _, counts = np.unique(strat, return_counts=True)
        if counts.min() < FOLDS:
            strat = np.zeros(len(idx))
        for k, (_train_i, te_i) in enumerate(skf.split(idx, strat)):
            test = idx[te_i]
            fold_of[test] = k
            train_mask = np.ones(len(y), dtype=bool)
            train_mask[test] = False
            theta, bias = fit_head(h, x[train_mask], y[train_mask], w[train_mask])
            oof[test] = head_proba(theta, bias, x[test], h.kind)
        done[idx] = True
    prim_idx = np.flatnonzero(prim)
    offsets = _tune_offsets(oof[prim_idx], y[prim_idx], classes)
    cls = np.array(classes)
    logp = np.log(np.clip(oof, 1e-9, 1))
    raw_pred = cls[oof.argmax(axis=1)]
    tuned_pred = cls[(logp + offsets).argmax(axis=1)]
    # honest offsets: for each fold, offsets chosen on the other folds' out-of-fold rows
    crossfit = raw_pred.copy()
    for k in range(FOLDS):
        test = prim_idx[fold_of[prim_idx] == k]
        rest = prim_idx[fold_of[prim_idx] != k]
        if len(test) and len(rest):
            off_k = _tune_offsets(oof[rest], y[rest], classes)
            crossfit[test] = cls[(logp[test] + off_k).argmax(axis=1)]
    for name, mask in eval_groups.items():
        key = h.name if name == "primary" else f"{h.name}:{name}"
        rep = _report(y[mask], tuned_pred[mask] if name == "primary" else raw_pred[mask],
                      classes)
        if name == "primary":
            rep["macro_f1_before_offsets"] = round(
                float(f1_score(y[mask], raw_pred[mask], average="macro")), 4)
            rep["macro_f1_crossfit_offsets"] = round(
                float(f1_score(y[mask], crossfit[mask], average="macro")), 4)
        out[key] = rep
    out["_offsets"] = offsets.tolist()
    return out
