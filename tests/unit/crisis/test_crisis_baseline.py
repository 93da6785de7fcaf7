"""The hour-of-week baseline must be usable from the first hours of history."""

from __future__ import annotations

from ventanilla.crisis.baseline import SeasonalBaseline, hour_of_week
from ventanilla.crisis.settings import DetectorSettings

MONDAY = 1_424_649_600 // 3600  # 2015-02-23T00:00Z, a Monday, as an epoch hour


def test_hour_of_week_starts_on_monday() -> None:
    assert hour_of_week(MONDAY) == 0
    assert hour_of_week(MONDAY + 24 + 15) == 39


def test_without_history_the_prior_is_expected() -> None:
    baseline = SeasonalBaseline(DetectorSettings(prior_level=2.0))
    expectation = baseline.expect(MONDAY)
    assert expectation.level == 2.0
    assert expectation.hours_seen == 0
    assert expectation.spread >= 1.0


def test_one_day_of_history_already_shows_the_daily_rhythm() -> None:
    baseline = SeasonalBaseline(DetectorSettings())
    for hour in range(MONDAY, MONDAY + 24):
        baseline.record(hour, 20.0 if 14 <= hour % 24 <= 22 else 2.0)
    afternoon = baseline.expect(MONDAY + 24 + 16).level
    night = baseline.expect(MONDAY + 24 + 4).level
    assert afternoon > night * 2
    # One sample is not trusted fully: the afternoon is pulled towards the overall level.
    assert 2.0 < afternoon < 20.0


def test_weeks_of_history_make_the_hour_of_week_dominate() -> None:
    baseline = SeasonalBaseline(DetectorSettings())
    for week in range(6):
        for hour in range(168):
            epoch_hour = MONDAY + week * 168 + hour
            # Only Monday 09:00 is busy, every week.
            baseline.record(epoch_hour, 30.0 if hour == 9 else 3.0)
    monday_nine = baseline.expect(MONDAY + 6 * 168 + 9).level
    tuesday_nine = baseline.expect(MONDAY + 6 * 168 + 24 + 9).level
    assert monday_nine > 15.0
    assert tuesday_nine < 8.0


def test_spread_grows_with_an_erratic_history() -> None:
    steady = SeasonalBaseline(DetectorSettings())
    erratic = SeasonalBaseline(DetectorSettings())
    for i, hour in enumerate(range(MONDAY, MONDAY + 48)):
        steady.record(hour, 10.0)
        erratic.record(hour, 0.0 if i % 2 else 30.0)
    assert erratic.expect(MONDAY + 48).spread > steady.expect(MONDAY + 48).spread


def test_one_huge_hour_does_not_set_the_busy_hour_of_a_long_window() -> None:
    baseline = SeasonalBaseline(DetectorSettings(record_hours=672, record_rank_per_week=0.25))
    for hour in range(672):
        baseline.record(hour, 50.0 if hour == 300 else (7.0 if hour in (100, 500) else 2.0))
    assert baseline.busiest_hour == 50.0
    # Four weeks of window: the second busiest hour, so the next crisis is not drowned out.
    assert baseline.busy_hour == 7.0
    for hour in range(672, 672 + 400):
        baseline.record(hour, 1.0)
    # The old hours left the window (counts are removed from the sorted view as they expire).
    assert baseline.busiest_hour == 7.0
    assert baseline.busy_hour == 2.0


def test_with_short_history_the_busy_hour_is_the_busiest() -> None:
    baseline = SeasonalBaseline(DetectorSettings(record_rank_per_week=0.25))
    for hour, count in enumerate([1.0, 4.0, 9.0, 3.0]):
        baseline.record(hour, count)
    assert baseline.busy_hour == baseline.busiest_hour == 9.0
