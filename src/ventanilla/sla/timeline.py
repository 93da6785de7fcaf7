"""A calendar's open intervals as numpy arrays, for SLA sums over many cases at once.

The timeline lists the UTC open intervals (epoch seconds) over a stretch of
time, with the business seconds accumulated before each one. Business time up
to any instant, and the instant at which a given amount of business time is
reached, are then one `np.searchsorted` each: O(log n) per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from ventanilla.sla.calendar import BusinessCalendar

FloatArray = npt.NDArray[np.float64]

_FIRST_EXTENSION = timedelta(days=14)


@dataclass(frozen=True)
class BusinessTimeline:
    """Open intervals of `calendar` from `since` to `until` (epoch seconds, UTC).

    `opens[i]`/`closes[i]` bound interval i; `before[i]` is the business time
    between `since` and `opens[i]`.
    """

    calendar: BusinessCalendar
    since: float
    until: float
    opens: FloatArray
    closes: FloatArray
    before: FloatArray

    @classmethod
    def build(cls, calendar: BusinessCalendar, since: float, until: float) -> BusinessTimeline:
        """The timeline of `calendar` between two epoch instants."""
        opens, closes = _interval_arrays(calendar, since, until)
        lengths = closes - opens
        before = np.concatenate(([0.0], np.cumsum(lengths)[:-1])) if len(opens) else lengths
        return cls(calendar, since, until, opens, closes, before)

    @property
    def total(self) -> float:
        """Business seconds between `since` and `until`."""
        if not len(self.opens):
            return 0.0
        return float(self.before[-1] + self.closes[-1] - self.opens[-1])

    def extended(self, business_seconds: float) -> BusinessTimeline:
        """This timeline, lengthened until it holds at least `business_seconds` in all."""
        timeline = self
        stretch = _FIRST_EXTENSION.total_seconds()
        while timeline.total < business_seconds:
            until = timeline.until + stretch
            opens, closes = _interval_arrays(self.calendar, timeline.until, until)
            lengths = closes - opens
            before = timeline.total + np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
            timeline = BusinessTimeline(
                self.calendar,
                self.since,
                until,
                np.concatenate((timeline.opens, opens)),
                np.concatenate((timeline.closes, closes)),
                np.concatenate((timeline.before, before[: len(opens)])),
            )
            stretch *= 2
        return timeline

    def business_seconds_at(self, moments: FloatArray) -> FloatArray:
        """Business seconds from `since` to each of `moments` (epoch seconds).

        Moments before `since` count as `since`; after `until`, as `until`.
        """
        if not len(self.opens):
            return np.zeros_like(moments, dtype=np.float64)
        index = np.searchsorted(self.opens, moments, side="right") - 1
        inside = np.maximum(index, 0)
        into = np.clip(moments - self.opens[inside], 0.0, self.closes[inside] - self.opens[inside])
        return np.where(index >= 0, self.before[inside] + into, 0.0)

    def moments_at(self, business_seconds: FloatArray) -> FloatArray:
        """The earliest instant at which each amount of business time since `since` is reached.

        Amounts beyond `total` give NaN: extend the timeline first.
        """
        after = self.before + (self.closes - self.opens)
        index = np.searchsorted(after, business_seconds, side="left")
        inside = np.minimum(index, len(self.opens) - 1)
        moments = self.opens[inside] + (business_seconds - self.before[inside])
        return np.where(index < len(self.opens), moments, np.nan)


def _interval_arrays(
    calendar: BusinessCalendar, since: float, until: float
) -> tuple[FloatArray, FloatArray]:
    intervals = list(
        calendar.open_intervals(
            datetime.fromtimestamp(since, UTC), datetime.fromtimestamp(until, UTC)
        )
    )
    opens = np.fromiter((opens.timestamp() for opens, _ in intervals), np.float64, len(intervals))
    closes = np.fromiter(
        (closes.timestamp() for _, closes in intervals), np.float64, len(intervals)
    )
    return opens, closes
