"""Impact score: breakdown sums to the score, monotonic in followers, priority thresholds."""

from __future__ import annotations

import pytest

from ventanilla.triage.impact import DEFAULT_THRESHOLDS, impact_score, priority


def test_breakdown_sums_to_score() -> None:
    imp = impact_score(followers=12_000, verified=True, likes=40, shares=10, replies=5,
                       age_hours=2, reason="safety", negative_confidence=0.9,
                       urgency_kinds=["safety", "media"], public=True, previous_complaints=2)
    assert set(imp.breakdown) == {"reach", "velocity", "severity", "visibility", "repeat"}
    assert imp.score == pytest.approx(sum(imp.breakdown.values()), abs=0.011)
    assert 0 <= imp.score <= 100


def test_monotonic_in_followers() -> None:
    scores = [impact_score(followers=f, negative_confidence=0.5).score
              for f in (0, 10, 100, 1_000, 10_000, 100_000, 10_000_000)]
    assert scores == sorted(scores)
    assert scores[-1] > scores[0]


def test_bounds_with_extreme_inputs() -> None:
    top = impact_score(followers=10**9, verified=True, likes=10**7, shares=10**7, replies=10**7,
                       age_hours=0, reason="safety", negative_confidence=1.0,
                       urgency_kinds=["safety", "legal", "media", "churn"],
                       previous_complaints=100)
    assert top.score == 100
    low = impact_score(followers=-5, likes=-1, age_hours=-3, public=False)
    assert 0 <= low.score < 10


def test_private_posts_score_lower() -> None:
    assert impact_score(100, public=False).score < impact_score(100, public=True).score


def test_priority_default_and_custom_thresholds() -> None:
    assert DEFAULT_THRESHOLDS == (75.0, 50.0, 25.0)
    assert [priority(s) for s in (80, 75, 60, 30, 10)] == ["P1", "P1", "P2", "P3", "P4"]
    assert priority(60, (90, 60, 30)) == "P2"
    assert priority(59.9, (90, 60, 30)) == "P3"
    with pytest.raises(ValueError):
        priority(50, (10, 50, 90))
