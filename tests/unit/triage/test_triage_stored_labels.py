"""The labels stored on posts are the same, value for value, whichever path builds them.

``stored_labels_golden.json`` pins what the per-post path (``predict`` + ``labels_for``) stored
for a fixed batch before the column-wise path (``predict_batch`` + ``stored_labels``) existed.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ventanilla.ingest.pending import PendingPost
from ventanilla.triage.model import Triager
from ventanilla.triage.service import labels_for, stored_labels
from ventanilla.triage.urgency import find_urgency, find_urgency_batch

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "triage" / "stored_labels_golden.json"


@pytest.fixture(scope="module")
def golden(triager: Triager) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text())
    if data["model_version"] != triager.version:
        pytest.skip("artefacts retrained since the golden sample was pinned")
    return data


def _pending(data: dict[str, Any]) -> list[PendingPost]:
    return [PendingPost(id=i, workspace_id=1, channel_id=1, author_id=i, text=text, language=None,
                        created_at=datetime(2024, 1, 1), thread_external_id=None, likes=f["likes"],
                        shares=f["shares"], replies=f["replies"], followers=f["followers"],
                        verified=f["verified"], public=f["public"])
            for i, (text, f) in enumerate(zip(data["texts"], data["facts"], strict=True))]


def test_batch_path_stores_the_pinned_labels(triager: Triager, golden: dict[str, Any]) -> None:
    posts = _pending(golden)
    facts = golden["facts"]
    stored = stored_labels(
        triager.predict_batch([p.text for p in posts]), posts,
        age_hours=[f["age_hours"] for f in facts],
        previous={i: f["previous_complaints"] for i, f in enumerate(facts)},
        thresholds=tuple(golden["thresholds"]))
    assert json.loads(json.dumps(stored)) == golden["labels"]
    # same JSON text too (key order, float formatting)
    assert json.dumps(stored, ensure_ascii=False) == json.dumps(golden["labels"], ensure_ascii=False)


def test_per_post_path_still_stores_the_pinned_labels(triager: Triager, golden: dict[str, Any]) -> None:
    results = triager.predict(golden["texts"])
    thresholds = tuple(golden["thresholds"])
    stored = [labels_for(r, thresholds=thresholds, **f) for r, f in zip(results, golden["facts"], strict=True)]
    assert json.loads(json.dumps(stored)) == golden["labels"]


def test_batch_and_per_post_paths_agree_on_shared_data(triager: Triager, shared_data) -> None:
    import csv

    with open(shared_data / "airline-tweets-es" / "dev.csv", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)][:1500]
    results = triager.predict(texts)
    posts = [PendingPost(id=i, workspace_id=1, channel_id=1, author_id=i % 50, text=t, language=None,
                         created_at=datetime(2024, 1, 1), thread_external_id=None, likes=i % 7, shares=i % 3,
                         replies=i % 2, followers=(i * 37) % 5000 or None, verified=i % 9 == 0,
                         public=i % 4 != 0)
             for i, t in enumerate(texts)]
    previous = {a: a % 4 for a in range(50)}
    ages = [(i % 30) / 3 for i in range(len(texts))]
    stored = stored_labels(triager.predict_batch(texts), posts, age_hours=ages, previous=previous,
                           thresholds=(75.0, 50.0, 25.0))
    expected = [labels_for(r, followers=p.followers, verified=p.verified, likes=p.likes, shares=p.shares,
                           replies=p.replies, age_hours=age, public=p.public,
                           previous_complaints=previous.get(p.author_id, 0), thresholds=(75.0, 50.0, 25.0))
                for r, p, age in zip(results, posts, ages, strict=True)]
    assert stored == expected


def test_batch_urgency_matches_per_text() -> None:
    texts = ["", "no cue here", "SUE them, FTC and BBB", "fire\x00smoke", "ſue", "Never again!",
             "incendio y humo", "OCU", "xOCU", "cancelled flight", "switching to Delta", "the news"]
    assert find_urgency_batch(texts) == [find_urgency(t) for t in texts]
    assert find_urgency_batch([]) == []
