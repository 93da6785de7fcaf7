"""The knobs a lead can tune for crisis detection, with defaults tuned on the shared dev data.

Every threshold is relative to the learned baseline (a z-score and a ratio), so the same
settings work for a brand with five complaints an hour and one with five hundred. The only
absolute figure is `min_negative`, a floor below which a count is too small to mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import IntEnum
from typing import Any


class Level(IntEnum):
    """How loud an alert is. `calm` means no alert."""

    calm = 0
    watch = 1
    warning = 2
    crisis = 3


@dataclass(frozen=True, slots=True)
class LevelRule:
    """A level is reached when the count beats the baseline by both `z` and `ratio`."""

    z: float
    ratio: float


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Thresholds and memory of the crisis detectors (see docs/crisis.md for each one)."""

    # Baseline memory.
    history_weeks: int = 8
    recent_hours: int = 168
    hour_of_day_days: int = 14
    # Pseudo-samples of the coarser level when shrinking a sparse seasonal median towards it.
    hour_of_day_prior: float = 4.0
    hour_of_week_prior: float = 2.0
    # Expected negative posts per hour before anything is known about a brand.
    prior_level: float = 1.0
    # Hours of a brand's history before a warning (not a watch) may be raised.
    min_history_hours: int = 6
    # Until a brand has this much history its daily rhythm is unknown, so every level's
    # ratio is multiplied by `learning_ratio_factor` (a morning ramp is not a crisis).
    learning_hours: int = 24
    learning_ratio_factor: float = 2.0
    # Level rules, applied to the last-hour count and to the fast (EWMA) rate.
    watch: LevelRule = LevelRule(z=3.0, ratio=2.0)
    warning: LevelRule = LevelRule(z=3.5, ratio=2.0)
    crisis: LevelRule = LevelRule(z=9.0, ratio=4.0)
    # The fast rate must beat the rules by this factor more (it is noisier).
    fast_margin: float = 1.75
    fast_half_life_minutes: float = 15.0
    # No alert below this many negative posts in the last hour.
    min_negative: int = 3
    # A warning also needs the last hour to reach this fraction of the brand's busiest hour
    # of the last `record_hours` (from `learning_hours` on): bursty brands swing a lot, and
    # what a lead wants is the hour that is unusual for *this* brand, not merely significant.
    record_fraction: float = 0.85
    record_hours: int = 672
    # The gate compares with the k-th busiest hour of that window, k = 1 + this many per week
    # of history (0: the busiest hour itself).
    record_rank_per_week: float = 0.25
    # A new record hour (busier than any of the last `record_hours`) that beats this milder
    # rule is a warning too, once the brand has `record_min_hours` of history. It needs less
    # significance than an ordinary hour (a small brand's record is a small z: 4 posts against
    # a usual 0.7 is z = 2.5) but the same doubling, which keeps the records of a busy,
    # stationary stream quiet (at 30 posts an hour a record of pure noise is z ≈ 2.5 but ×1.5).
    record_rule: LevelRule = LevelRule(z=2.5, ratio=2.0)
    record_min_hours: int = 48
    # An hour above this fraction of the busiest hour that is still rising is judged by
    # `record_rule` too, so a record hour is warned before it ends (1.0: only once it has
    # beaten the record). Rising: the fast rate beats the hourly count by this many of its own
    # Poisson standard deviations (0: merely at least the count, which on small hourly counts
    # is a coin toss).
    near_record_fraction: float = 0.9
    near_record_rise_sigmas: float = 1.0
    # A brand first seen after the monitor started has a history of silence since the start.
    history_from_start: bool = True
    # CUSUM on completed hours' z-scores: a sustained rise raises a watch.
    cusum_slack: float = 1.5
    cusum_limit: float = 8.0
    # Episode hysteresis: an episode stays open while z >= calm_z, and closes after
    # calm_minutes below it.
    calm_z: float = 2.0
    calm_minutes: int = 90
    # Episode updates: re-announce when the hourly count grew by this fraction.
    update_growth: float = 0.5
    update_min_minutes: int = 30
    # A brand is re-assessed on a negative post at most this often (and every 5 minutes of
    # post time regardless): finer than this buys no lead time, only CPU.
    assess_interval_seconds: float = 30.0
    # Detection counts posts whose sentiment is negative, and also complaints when True
    # (measured: more bursts caught at the same false-alarm rate; see docs/crisis.md).
    complaints_are_negative: bool = True
    # Authors with at least this many followers count as high-reach.
    high_reach_followers: int = 10_000

    def rule(self, level: Level) -> LevelRule:
        """The rule that defines `level` (watch, warning or crisis)."""
        if level is Level.watch:
            return self.watch
        if level is Level.warning:
            return self.warning
        if level is Level.crisis:
            return self.crisis
        raise ValueError(f"no rule for level {level.name}")

    def with_overrides(self, **overrides: Any) -> DetectorSettings:
        """A copy with some settings changed; level rules may be given as (z, ratio) pairs."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown crisis settings: {', '.join(sorted(unknown))}")
        for name in ("watch", "warning", "crisis", "record_rule"):
            value = overrides.get(name)
            if isinstance(value, tuple | list):
                overrides[name] = LevelRule(z=float(value[0]), ratio=float(value[1]))
        return replace(self, **overrides)
