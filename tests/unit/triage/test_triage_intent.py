"""Intent rules on a small labelled fixture of our own (tests/fixtures/triage/intent.csv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ventanilla.triage.datasets import read_rows
from ventanilla.triage.intent import INTENT_NAMES, decide_intent
from ventanilla.triage.model import Triager

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "triage" / "intent.csv"


def test_intent_fixture_accuracy(triager: Triager) -> None:
    rows = read_rows(FIXTURE).rows
    pred = triager.label_batch([r["text"] for r in rows], ("intent",))["intent"]
    gold = [r["intent"] for r in rows]
    accuracy = float(np.mean([p == g for p, g in zip(pred, gold, strict=True)]))
    assert accuracy >= 0.7, list(zip(gold, pred, strict=True))


def test_rules_directly() -> None:
    one = np.ones(1)
    zero = np.zeros(1)
    no = np.zeros(1, dtype=bool)
    idx, conf = decide_intent(one * 0.9, one * 0.9, zero, one, zero, no, zero, zero)
    assert INTENT_NAMES[int(idx[0])] == "wants_fix"
    idx, _ = decide_intent(one * 0.9, one * 0.9, zero, zero, zero, no, zero, zero)
    assert INTENT_NAMES[int(idx[0])] == "wants_heard"
    idx, _ = decide_intent(zero, zero, zero, zero, one, no, zero, zero)
    assert INTENT_NAMES[int(idx[0])] == "question"
    idx, _ = decide_intent(zero, zero, one * 0.9, zero, zero, no, zero, zero)
    assert INTENT_NAMES[int(idx[0])] == "praise"
    idx, conf = decide_intent(zero, zero, zero, zero, zero, no, one * 2, one)
    assert INTENT_NAMES[int(idx[0])] == "spam"
    assert 0 < conf[0] < 1
