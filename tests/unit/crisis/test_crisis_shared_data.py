"""Optional: replay the shared English dev file with the real triage models.

Skipped when ../shared/data (or VENTANILLA_SHARED_DATA) or the trained triage artefacts are
missing. Checks the goals this detector reaches on that file (see docs/crisis.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ventanilla.crisis.replay import Labeller, replay

ROOT = Path(__file__).resolve().parents[3]


def shared_file(name: str) -> Path:
    base = Path(os.environ.get("VENTANILLA_SHARED_DATA", ROOT.parent / "shared" / "data"))
    path = base / name / "dev.csv"
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


def real_labeller() -> Labeller:
    try:
        from ventanilla.triage.model import load_triager

        triager: Labeller = load_triager()
    except Exception as error:  # not trained in this checkout
        pytest.skip(f"triage models unavailable: {error}")
    return triager


@pytest.mark.parametrize("name", ["airline-tweets-en", "airline-tweets-es"])
def test_replay_of_the_shared_dev_file_meets_the_goals(name: str) -> None:
    path = shared_file(name)
    report = replay(path, real_labeller())
    data = report.to_json()
    assert data["posts"] > 5000
    assert data["skipped"] == 0
    assert data["largest_burst_hit_rate"] >= 0.8, data["bursts"]
    assert data["false_alarms_per_brand_week"] <= 1.0, data["false_alarms_by_brand"]
    assert all(a["why"] for a in data["alerts"])
