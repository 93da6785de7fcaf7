"""Scoring a replay: hits need a warning before the peak hour ends from an episode near it."""

from __future__ import annotations

from ventanilla.crisis.episodes import Episode
from ventanilla.crisis.evaluation import HOUR, Burst, score
from ventanilla.crisis.settings import Level

PEAK = 400_000  # an epoch hour


def episode(number: int, first_warning: float | None, closed: float | None, level: Level = Level.warning) -> Episode:
    opened = first_warning if first_warning is not None else PEAK * HOUR - 2 * HOUR
    return Episode(
        number=number,
        brand="Acme",
        opened_at=opened,
        level=level,
        why="",
        topic="",
        first_warning_at=first_warning,
        closed_at=closed,
    )


def run(episodes: list[Episode], alerts: list[tuple[str | None, float, int]]):  # type: ignore[no-untyped-def]
    burst = Burst(brand="Acme", hour=PEAK, negative_posts=30, rank=1)
    return score(episodes, [burst], alerts=alerts, start=(PEAK - 200) * HOUR, end=(PEAK + 100) * HOUR)


def test_a_warning_that_is_still_open_at_the_peak_hits_with_its_lead() -> None:
    warned = PEAK * HOUR - 30 * 60
    result = run([episode(1, warned, PEAK * HOUR + 2 * HOUR)], [("Acme", warned, 1)])
    assert result.outcomes[0].hit
    assert result.outcomes[0].lead_minutes == 90.0
    assert not result.false_alarms


def test_an_episode_that_calmed_long_before_the_peak_is_no_warning_of_it() -> None:
    # Warned 10 h before the peak, closed 8 h before it: a false alarm, and not a hit as well.
    warned = PEAK * HOUR - 10 * HOUR
    result = run([episode(1, warned, PEAK * HOUR - 8 * HOUR)], [("Acme", warned, 1)])
    assert not result.outcomes[0].hit
    assert len(result.false_alarms) == 1


def test_watch_level_episodes_never_count() -> None:
    result = run([episode(1, None, PEAK * HOUR + HOUR, level=Level.watch)], [])
    assert not result.outcomes[0].hit
    assert result.outcomes[0].first_alert is None
    assert not result.false_alarms


def test_an_alert_after_the_peak_hour_ended_is_late() -> None:
    late = PEAK * HOUR + HOUR + 20 * 60
    result = run([episode(1, late, None)], [("Acme", late, 1)])
    assert not result.outcomes[0].hit
    assert result.outcomes[0].lead_minutes == -20.0
