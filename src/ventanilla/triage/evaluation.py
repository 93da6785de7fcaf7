"""`evaluate`: per-label precision/recall/F1, macro-F1, accuracy, confusion and throughput.

Works on any CSV shaped like the shared data: a ``text`` column plus any of
``sentiment``, ``reason``, ``complaint``, ``offensive``, ``lang``. Bad rows are
skipped and counted, undecodable bytes are replaced, long texts are truncated.
Reasons are scored in the file's own label space: predictions are restricted to
the codes of the classes the file uses and mapped back to its names.

Throughput: ``posts_per_second`` times the first pass over the file (every chunk
type not in the shipped table is featurised on the way); ``posts_per_second_warm``
times a second pass (the steady state of a running service, type cache warm).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ventanilla.triage.datasets import read_rows
from ventanilla.triage.model import ALL_LABELS, Triager, load_triager
from ventanilla.triage.taxonomy import reason_code

TASK_COLUMNS: dict[str, str] = {
    "sentiment": "sentiment",
    "reason": "reason",
    "complaint": "complaint",
    "offensive": "offensive",
    "language": "lang",
}


def score_task(gold: Sequence[str], pred: Sequence[str],
               labels: Sequence[str] | None = None) -> dict[str, object]:
    """Macro-F1, accuracy, per-class precision/recall/F1/support and confusion matrix."""
    labels = list(labels) if labels is not None else sorted(set(gold))
    index = {c: i for i, c in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    for g, p in zip(gold, pred, strict=True):
        if g in index and p in index:
            confusion[index[g], index[p]] += 1
    per_class: dict[str, dict[str, float | int]] = {}
    f1s: list[float] = []
    gold_counts = {c: 0 for c in labels}
    for g in gold:
        if g in gold_counts:
            gold_counts[g] += 1
    for c, i in index.items():
        tp = float(confusion[i, i])
        predicted = float(confusion[:, i].sum())
        actual = float(gold_counts[c])
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": round(precision, 4), "recall": round(recall, 4),
                        "f1": round(f1, 4), "support": int(actual)}
        if actual:
            f1s.append(f1)
    n = sum(gold_counts.values())
    correct = int(np.trace(confusion))
    return {
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "labels": labels,
        "n": n,
    }


def _reasons_in_file_space(triager: Triager, texts: list[str], gold: list[str]) -> list[str]:
    """Predict reasons restricted to the file's classes, named as in the file."""
    file_classes = sorted(set(gold))
    code_of = {c: reason_code(c) for c in file_classes}
    name_of: dict[str, str] = {}
    for name, code in code_of.items():
        name_of.setdefault(code, name)
    proba, codes = triager.reason_scores(texts)
    allowed = np.array([c in name_of for c in codes])
    if not allowed.any():
        allowed[:] = True
    masked = np.where(allowed[None, :], proba, -1.0)
    best = masked.argmax(axis=1)
    return [name_of.get(codes[i], codes[i]) for i in best.tolist()]


def evaluate(csv_path: Path, triager: Triager | None = None) -> dict[str, object]:
    """Evaluate every label column the CSV has; see the module docstring for the rules."""
    model = triager or load_triager()
    table = read_rows(Path(csv_path))
    rows = table.rows
    texts = [r.get("text", "") or "" for r in rows]
    start = time.perf_counter()
    predicted = model.label_batch(texts, ALL_LABELS) if texts else {}
    elapsed = time.perf_counter() - start
    warm = 0.0
    if texts:
        start = time.perf_counter()
        model.label_batch(texts, ALL_LABELS)
        warm = time.perf_counter() - start
    tasks: dict[str, object] = {}
    for task, column in TASK_COLUMNS.items():
        if column not in table.columns:
            continue
        keep = [i for i, r in enumerate(rows) if (r.get(column) or "").strip()]
        if not keep:
            continue
        gold = [rows[i][column].strip() for i in keep]
        if task == "reason":
            pred = _reasons_in_file_space(model, [texts[i] for i in keep], gold)
            tasks[task] = score_task(gold, pred, sorted(set(gold)))
            continue
        gold = [g.lower() for g in gold]
        if task in ("complaint", "offensive"):
            gold = [_yes_no(g) for g in gold]
        values = predicted[task]
        pred = [str(values[i]) for i in keep]
        # predicted classes join the label list (confusion shows them); macro-F1 averages
        # only classes with gold support
        labels = sorted(set(gold) | set(pred)
                        | ({"yes", "no"} if task in ("complaint", "offensive") else set()))
        tasks[task] = score_task(gold, pred, labels)
    return {
        "tasks": tasks,
        "rows": len(rows),
        "skipped_rows": table.skipped_rows,
        "posts_per_second": round(len(texts) / elapsed, 1) if elapsed > 0 and texts else 0.0,
        "posts_per_second_warm": round(len(texts) / warm, 1) if warm > 0 else 0.0,
        "model_version": model.version,
    }


def _yes_no(value: str) -> str:
    """Normalise yes/no style gold labels (yes, 1, true, complaint...)."""
    return "yes" if value in ("yes", "y", "1", "true", "complaint", "offensive") else "no"
