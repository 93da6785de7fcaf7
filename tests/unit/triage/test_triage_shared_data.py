"""Optional: the recorded cross-validation figures against the reference figures in GOALS.md.

Figures that do not beat their reference yet are marked xfail with the measured value,
so the gap stays visible instead of being hidden by a loosened threshold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ventanilla.triage.model import ARTIFACTS_DIR, Triager

REFERENCES = [
    pytest.param("sentiment_en", 0.770, id="sentiment-en"),
    pytest.param("sentiment_es", 0.549, id="sentiment-es"),
    pytest.param("reason", 0.531, id="reason-en"),
    pytest.param("complaint", 0.806, id="complaint-en"),
    pytest.param("offensive", 0.912, id="offensive-en"),
]


def _cv() -> dict[str, dict[str, dict[str, float]]]:
    cv_file = ARTIFACTS_DIR / "cv.json"
    if not cv_file.exists():
        pytest.skip("artefacts were trained without cross-validation")
    data: dict[str, dict[str, dict[str, float]]] = json.loads(cv_file.read_text())
    return data


@pytest.mark.parametrize(("head", "reference"), REFERENCES)
def test_cv_figure_beats_reference(shared_data: Path, head: str, reference: float) -> None:
    # the honest figure: class offsets chosen on the other folds (cross-fitted)
    rep = _cv()[head][head]
    assert rep["macro_f1_crossfit_offsets"] > reference
    assert rep["macro_f1_before_offsets"] > reference - 0.01


def test_language_cv_accuracy(shared_data: Path) -> None:
    assert _cv()["language"]["language"]["accuracy"] >= 0.99


def test_language_on_shared_sample(shared_data: Path, triager: Triager) -> None:
    from ventanilla.triage.datasets import read_shared

    rows = read_shared("airline-tweets-es", shared_data)[:500]
    rows += read_shared("complaints-en", shared_data)[:500]
    pred = triager.label_batch([r["text"] for r in rows], ("language",))["language"]
    accuracy = sum(p == r["lang"] for p, r in zip(pred, rows, strict=True)) / len(rows)
    assert accuracy >= 0.98
