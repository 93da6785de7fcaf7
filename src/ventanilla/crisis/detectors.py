"""Change detection on a brand's negative posts against its seasonal baseline.

Three detectors look at the same stream of negative posts:

- **last hour**: the sliding 1-hour count against the expected count (z-score and ratio);
- **fast rate**: an exponentially weighted rate (half-life `fast_half_life_minutes`) that sees a
  sudden spike minutes after it starts, held to stricter thresholds because it is noisier;
- **CUSUM** on completed hours' z-scores: a slow, sustained rise that no single hour shows.

The loudest of them sets the level. Each assessment carries a sentence saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ventanilla.crisis.baseline import Expectation, SeasonalBaseline
from ventanilla.crisis.settings import DetectorSettings, Level

HOUR = 3600.0
# Gaps longer than this are not filled hour by hour (the history is only this long anyway).
_MAX_FILLED_HOURS = 24 * 7 * 8


@dataclass(frozen=True, slots=True)
class Assessment:
    """A detector's verdict at one moment for one brand."""

    level: Level
    negative_last_hour: int
    expected: float
    z: float
    ratio: float
    source: str
    why: str


CALM = Assessment(Level.calm, 0, 0.0, 0.0, 1.0, "none", "")


def _ratio(count: float, expected: float) -> float:
    # +1 on both sides keeps a jump from 0 to 3 from reading as "infinitely many times".
    return (count + 1.0) / (expected + 1.0)


class BrandDetector:
    """Detectors for one brand's negative posts. Feed it posts in time order."""

    __slots__ = (
        "_cusum",
        "_decay",
        "_decay_per_hour",
        "_ewma",
        "_ewma_time",
        "_expect_now",
        "_expect_prev",
        "_hour",
        "_hour_count",
        "_rules",
        "_window",
        "baseline",
        "settings",
    )

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.baseline = SeasonalBaseline(settings)
        self._hour = -1
        self._hour_count = 0
        self._ewma = 0.0
        self._ewma_time = 0.0
        self._cusum = 0.0
        self._decay = math.log(2.0) / (settings.fast_half_life_minutes * 60.0)  # per second
        # Constants of `assess`, computed once (assess runs on most negative posts).
        self._decay_per_hour = math.log(2.0) * 60.0 / settings.fast_half_life_minutes
        self._rules = tuple((level, settings.rule(level)) for level in (Level.crisis, Level.warning, Level.watch))
        self._expect_now = Expectation(settings.prior_level, 1.0, 0)
        self._expect_prev = self._expect_now
        # Negative posts in a sliding hour: a deque would be exact, but 12 five-minute buckets
        # bound memory whatever the volume (the signal board uses the same granularity).
        self._window = _MinuteBuckets()

    @property
    def cusum(self) -> float:
        """The current CUSUM statistic on hourly z-scores."""
        return self._cusum

    def advance(self, now: float) -> None:
        """Move the clock to `now`: close finished hours into the baseline."""
        hour = int(now // HOUR)
        if self._hour < 0:
            self._hour = hour
            self._refresh_expectations()
            return
        if hour <= self._hour:
            return
        self._close_hour(self._hour, self._hour_count)
        gap = hour - self._hour - 1
        first_empty = max(self._hour + 1, hour - min(gap, _MAX_FILLED_HOURS))
        for empty in range(first_empty, hour):
            self._close_hour(empty, 0)
        self._hour = hour
        self._hour_count = 0
        self._refresh_expectations()

    def _close_hour(self, hour: int, count: int) -> None:
        s = self.settings
        expectation = self.baseline.expect(hour)
        z = (count - expectation.level) / expectation.spread
        self._cusum = max(0.0, self._cusum + z - s.cusum_slack)
        self.baseline.record(hour, float(count))

    def _refresh_expectations(self) -> None:
        self._expect_now = self.baseline.expect(self._hour)
        self._expect_prev = self.baseline.expect(self._hour - 1)

    def observe_negative(self, now: float) -> None:
        """Count one negative post at `now` (a few minutes late is fine; over an hour is not)."""
        if int(now // HOUR) > self._hour:
            self.advance(now)
        self._hour_count += 1
        self._window.add(now)
        decay = self._decay
        if self._ewma_time:
            self._ewma *= math.exp(-decay * max(0.0, now - self._ewma_time))
        # A slightly late post counts as if it arrived now (the rate never looks back).
        self._ewma_time = max(now, self._ewma_time)
        self._ewma += decay * HOUR  # one event adds decay (per second) * 3600 to a per-hour rate

    def fast_rate(self, now: float) -> float:
        """Negative posts per hour as the exponentially weighted rate sees them at `now`."""
        if not self._ewma_time:
            return 0.0
        return self._ewma * math.exp(-self._decay * max(0.0, now - self._ewma_time))

    def expectation(self, now: float) -> Expectation:
        """Expected negatives over the hour ending at `now` (blend of this and last hour)."""
        into = (now - self._hour * HOUR) / HOUR
        now_e, prev_e = self._expect_now, self._expect_prev
        return Expectation(
            level=into * now_e.level + (1.0 - into) * prev_e.level,
            spread=into * now_e.spread + (1.0 - into) * prev_e.spread,
            hours_seen=now_e.hours_seen,
        )

    def assess(self, now: float) -> Assessment:
        """The level the detectors agree on at `now`, with its reason."""
        if int(now // HOUR) > self._hour:
            self.advance(now)
        s = self.settings
        count = self._window.count(now)
        e = self.expectation(now)
        z_hour = (count - e.level) / e.spread
        ratio_hour = (count + 1.0) / (e.level + 1.0)  # _ratio, inlined
        if count < s.min_negative and self._cusum < s.cusum_limit:
            return Assessment(Level.calm, count, e.level, z_hour, ratio_hour, "none", "")
        rate = self.fast_rate(now)
        # The EWMA of a Poisson stream has variance rate * decay / 2 (per hour squared).
        decay_per_hour = self._decay_per_hour
        fast_spread = max(e.spread, math.sqrt((e.level + 1.0) * decay_per_hour / 2.0))
        z_fast = (rate - e.level) / fast_spread
        ratio_fast = _ratio(rate, e.level)

        level = Level.calm
        source = "none"
        learning = e.hours_seen < s.learning_hours
        # While the daily rhythm is unknown, a normal morning ramp looks like a jump: ask for
        # a bigger ratio (z is left alone, it already accounts for the small counts).
        ratio_factor = s.learning_ratio_factor if learning else 1.0
        if count >= s.min_negative:
            for candidate, rule in self._rules:
                if z_hour >= rule.z and ratio_hour >= rule.ratio * ratio_factor:
                    level, source = candidate, "hour"
                    break
                m = s.fast_margin
                if z_fast >= rule.z * m and ratio_fast >= rule.ratio * m * ratio_factor:
                    level, source = candidate, "fast"
                    break
        record = self.baseline.busiest_hour
        record_rule = s.record_rule
        # Near a record and "still rising": the fast rate beats the hourly count by more than
        # its own Poisson noise (sd of an EWMA rate = √(rate × decay / 2)), not by a lucky pair.
        if (
            level < Level.warning
            and e.hours_seen >= s.record_min_hours
            and record > 0
            and (
                count > record
                or (
                    count > s.near_record_fraction * record
                    and rate >= count + s.near_record_rise_sigmas * math.sqrt((count + 1.0) * decay_per_hour / 2.0)
                )
            )
            and z_hour >= record_rule.z
            and ratio_hour >= record_rule.ratio
            and count >= s.min_negative
        ):
            # The worst hour in weeks, and clearly above the baseline: warn even if the
            # z-score alone would not (bursty brands have wide spreads).
            level, source = Level.warning, ("record" if count > record else "near record")
        still_high = count > e.level + e.spread
        if level is Level.calm and self._cusum >= s.cusum_limit and still_high:
            level, source = Level.watch, "cusum"
        busy = self.baseline.busy_hour
        if level > Level.watch and e.hours_seen >= s.learning_hours and count < s.record_fraction * busy:
            level = Level.watch
            source = source if source != "none" else "hour"
        if level > Level.watch and e.hours_seen < s.min_history_hours:
            level = Level.watch
        if level is Level.calm:
            return Assessment(level, count, e.level, z_hour, ratio_hour, source, "")
        why = _why(source, count, e.level, z_hour, ratio_hour, rate, self._cusum)
        if level >= Level.warning and e.hours_seen >= s.learning_hours and record > 0:
            window = min(e.hours_seen, s.record_hours)
            why += f"; busiest hour of the previous {window} h had {record:.0f}"
        return Assessment(level, count, e.level, z_hour, ratio_hour, source, why)


def _why(source: str, count: int, expected: float, z: float, ratio: float, rate: float, cusum: float) -> str:
    usual = f"{expected:.1f}" if expected < 10 else f"{expected:.0f}"
    sentence = f"{count} negative posts in the last hour vs usual {usual} (×{ratio:.1f}, z={z:.1f})"
    if source == "fast":
        sentence += f"; rising fast: {rate:.0f}/h over the last minutes"
    elif source == "record":
        sentence += "; a new record for this brand"
    elif source == "near record":
        sentence += f"; close to this brand's busiest hour and still rising ({rate:.0f}/h over the last minutes)"
    elif source == "cusum":
        sentence += f"; sustained rise over several hours (CUSUM {cusum:.1f})"
    return sentence


class _MinuteBuckets:
    """Counts of events in twelve 5-minute buckets: a sliding hour with bounded memory."""

    __slots__ = ("_checked", "_counts", "_ids", "_latest", "_total")

    def __init__(self) -> None:
        self._counts = [0] * 12
        self._ids = [-1] * 12
        self._total = 0
        self._checked = -1
        self._latest = -1

    def _expire(self, bucket: int) -> None:
        if bucket == self._checked:
            return  # nothing can have expired within the same 5 minutes
        self._checked = bucket
        for slot in range(12):
            if self._ids[slot] != -1 and self._ids[slot] <= bucket - 12:
                self._total -= self._counts[slot]
                self._counts[slot] = 0
                self._ids[slot] = -1

    def add(self, now: float) -> None:
        bucket = int(now // 300)
        if bucket <= self._latest - 12:
            return  # older than the sliding hour: a late post cannot change it
        self._latest = max(self._latest, bucket)
        slot = bucket % 12
        if self._ids[slot] != bucket:
            if self._ids[slot] != -1:
                self._total -= self._counts[slot]
            self._counts[slot] = 0
            self._ids[slot] = bucket
        self._counts[slot] += 1
        self._total += 1

    def count(self, now: float) -> int:
        self._expire(int(now // 300))
        return self._total
