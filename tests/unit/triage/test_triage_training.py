"""`train` end to end on a tiny synthetic copy of the shared data's shape (no shared data)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from ventanilla.triage import features as F
from ventanilla.triage.model import Triager
from ventanilla.triage.training import train

NEG = ["my flight is delayed again", "they lost my bag", "worst customer service ever",
       "flight cancelled no refund", "rude staff at the gate"]
POS = ["thanks for the great flight", "love the crew", "awesome service today"]
NEU = ["what time does the flight leave", "is there wifi on board", "flying to Boston"]
REASONS = ["Late Flight", "Lost Luggage", "Customer Service Issue", "Cancelled Flight",
           "Flight Attendant Complaints"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _tiny_shared(base: Path) -> None:
    rng = random.Random(0)
    air: list[list[str]] = []
    for i in range(60):
        kind = i % 3
        if kind == 0:
            j = rng.randrange(len(NEG))
            air.append([f"@united {NEG[j]} #{i}", "negative", REASONS[j]])
        elif kind == 1:
            air.append([f"@united {rng.choice(POS)} :)", "positive", ""])
        else:
            air.append([f"@united {rng.choice(NEU)}?", "neutral", ""])
    _write(base / "airline-tweets-en" / "dev.csv", ["text", "sentiment", "reason"], air)
    es = [[f"@Iberia {t} {i}", s] for i in range(20) for t, s in
          (("vuelo retrasado otra vez", "negative"), ("gracias por todo", "positive"),
           ("a qué hora sale el vuelo", "neutral"))]
    _write(base / "airline-tweets-es" / "dev.csv", ["text", "sentiment"], es)
    comp = [[f"@brand {NEG[i % 5]} {i}", "yes"] for i in range(25)]
    comp += [[f"@brand {NEU[i % 3]} {i}", "no"] for i in range(35)]
    _write(base / "complaints-en" / "dev.csv", ["text", "complaint"], comp)
    off = [[f"you stupid idiot {i}", "yes"] for i in range(30)]
    off += [[f"nice weather today {i}", "no"] for i in range(30)]
    _write(base / "offensive-en" / "dev.csv", ["text", "offensive"], off)


@pytest.mark.parametrize("jobs", ["2"])
def test_train_writes_loadable_artefacts_with_cv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  jobs: str) -> None:
    monkeypatch.setenv("VENTANILLA_TRAIN_JOBS", jobs)
    data = tmp_path / "data"
    _tiny_shared(data)
    before = F.current_lexicon()
    try:
        out = tmp_path / "art"
        result = train(data, out)
        cv = json.loads((out / "cv.json").read_text())
        for head in ("language", "complaint", "sentiment_en", "sentiment_es", "reason",
                     "offensive"):
            rep = cv[head][head]
            assert 0.0 <= rep["macro_f1_crossfit_offsets"] <= 1.0
            assert "_offsets" not in cv[head]
        assert (out / "types.npz").exists() and (out / "lexicon.npz").exists()
        model = Triager.load(out)
        assert model.version == result["version"]
        labels = model.label_batch(["@united my flight is delayed again", "gracias por todo"],
                                   ("language", "sentiment", "complaint"))
        assert list(labels["language"]) == ["en", "es"]
        assert labels["sentiment"][0] == "negative"
    finally:
        F.set_lexicon(before)
    assert np.isfinite(cv["complaint"]["complaint"]["macro_f1"])
