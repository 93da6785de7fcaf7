"""A robust seasonal baseline of hourly counts that works from the first hours of history.

The expected count for an hour is a shrinkage blend of three robust levels (20%-trimmed
means), each pulled towards the coarser one while it has few samples:

    recent level (trimmed mean of the last `recent_hours` hours)
      <- hour of day (trimmed mean of the same clock hour and its neighbours, last
         `hour_of_day_days` days)
        <- hour of week (trimmed mean of the same hour and weekday, last `history_weeks` weeks)

Trimmed means rather than medians: on a sparse brand (most hours 0 or 1 negative post) the
median of the hourly counts is 0 whatever the rate, so 3 posts in an hour looked like z = 3;
the trimmed mean is as robust to a burst and follows the rate.

With one week of data the hour-of-week term barely weighs, the hour-of-day term carries the
daily rhythm, and before a day has passed the recent level (or `prior_level`) carries it all.
The spread is the interquartile range of the baseline's own past errors, floored by Poisson noise, so a
brand whose volume swings wildly needs a bigger jump to alert.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ventanilla.crisis.settings import DetectorSettings

HOURS_PER_WEEK = 168
# 1970-01-01 was a Thursday: shift epoch hours so that hour-of-week 0 is Monday 00:00 UTC.
_EPOCH_WEEKDAY_OFFSET_HOURS = 3 * 24
_IQR_TO_SIGMA = 1.349


def hour_of_week(hour_index: int) -> int:
    """Hour of week (0 = Monday 00:00 UTC) of an epoch hour index (seconds // 3600)."""
    return (hour_index + _EPOCH_WEEKDAY_OFFSET_HOURS) % HOURS_PER_WEEK


def trimmed_mean(values: Iterable[float], cut: float = 0.2) -> float:
    """Mean of the values between the `cut` and 1 - `cut` quantiles.

    As robust to bursts as a median, but unbiased for skewed counts (the median of a Poisson
    count sits below its mean, which would make a flat stream look like a rise).
    """
    ordered = sorted(values)
    n = len(ordered)
    k = int(n * cut)
    kept = ordered[k : n - k] or ordered
    return sum(kept) / len(kept)


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the baseline expects for one hour: a level, a spread and how much it knows."""

    level: float
    spread: float
    hours_seen: int


class SeasonalBaseline:
    """Hourly history of one count (e.g. a brand's negative posts) and its expectations."""

    __slots__ = (
        "_by_hod",
        "_by_how",
        "_errors",
        "_hours_total",
        "_peaks",
        "_recent",
        "_recent_level",
        "_record_sorted",
        "_record_window",
        "_spread",
        "settings",
    )

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self._recent: deque[float] = deque(maxlen=settings.recent_hours)
        self._errors: deque[float] = deque(maxlen=settings.recent_hours)
        self._by_hod: list[deque[float]] = [deque(maxlen=settings.hour_of_day_days) for _ in range(24)]
        self._by_how: list[deque[float]] = [deque(maxlen=settings.history_weeks) for _ in range(HOURS_PER_WEEK)]
        # Medians over the recent history change once an hour: computed in `record`.
        self._recent_level = settings.prior_level
        # Monotone deque of (hour, count): the front is the busiest hour of the record window.
        self._peaks: deque[tuple[int, float]] = deque()
        # The counts of the record window, in time order and sorted (for `busy_hour`).
        self._record_window: deque[tuple[int, float]] = deque()
        self._record_sorted: list[float] = []
        self._hours_total = 0
        self._spread = 0.0

    @property
    def busiest_hour(self) -> float:
        """The busiest completed hour of the last `record_hours` (0 before any)."""
        return self._peaks[0][1] if self._peaks else 0.0

    @property
    def busy_hour(self) -> float:
        """What "one of this brand's busiest hours" means: the k-th busiest completed hour of
        the last `record_hours`, with k = 1 + `record_rank_per_week` per week of that window.

        With k = 1 it is the busiest hour. A larger k keeps one huge crisis from deafening the
        detector to everything smaller for the whole window, and scales with the history.
        """
        ordered = self._record_sorted
        if not ordered:
            return 0.0
        k = 1 + int(self.settings.record_rank_per_week * len(ordered) / HOURS_PER_WEEK)
        return ordered[-min(k, len(ordered))]

    @property
    def hours_seen(self) -> int:
        """Completed hours learnt so far."""
        return self._hours_total

    def record(self, hour_index: int, count: float) -> None:
        """Learn the final count of a completed hour (epoch hour index)."""
        expected = self.expected_level(hour_index)
        if self._recent:
            self._errors.append(count - expected)
        self._recent.append(count)
        self._hours_total += 1
        self._by_hod[hour_index % 24].append(count)
        self._by_how[hour_of_week(hour_index)].append(count)
        self._recent_level = trimmed_mean(self._recent)
        peaks = self._peaks
        while peaks and peaks[-1][1] <= count:
            peaks.pop()
        peaks.append((hour_index, count))
        while peaks[0][0] <= hour_index - self.settings.record_hours:
            peaks.popleft()
        window, ordered = self._record_window, self._record_sorted
        window.append((hour_index, count))
        bisect.insort(ordered, count)
        while window[0][0] <= hour_index - self.settings.record_hours:
            _old_hour, old = window.popleft()
            del ordered[bisect.bisect_left(ordered, old)]
        if len(self._errors) >= 6:
            errors = self._errors
            # Interquartile range of the baseline's own errors (robust to a quarter of bursts,
            # and unlike the MAD it does not collapse to 0 on lumpy, mostly-zero counts).
            ordered = sorted(errors)
            n = len(ordered)
            self._spread = (ordered[(3 * n) // 4] - ordered[n // 4]) / _IQR_TO_SIGMA

    def expected_level(self, hour_index: int) -> float:
        """The blended robust level expected for an epoch hour."""
        s = self.settings
        level = self._recent_level
        # The clock hour and its two neighbours: three samples a day make the daily rhythm
        # usable after one day, at the cost of smoothing it a little.
        h = hour_index % 24
        hod = [*self._by_hod[(h - 1) % 24], *self._by_hod[h], *self._by_hod[(h + 1) % 24]]
        if hod:
            w = len(hod) / (len(hod) + s.hour_of_day_prior)
            level = (1.0 - w) * level + w * trimmed_mean(hod)
        how = self._by_how[hour_of_week(hour_index)]
        if how:
            w = len(how) / (len(how) + s.hour_of_week_prior)
            level = (1.0 - w) * level + w * trimmed_mean(how)
        return level

    def expect(self, hour_index: int) -> Expectation:
        """Level and spread expected for an epoch hour."""
        level = self.expected_level(hour_index)
        spread = max(math.sqrt(level + 1.0), self._spread)
        return Expectation(level=level, spread=spread, hours_seen=self._hours_total)
