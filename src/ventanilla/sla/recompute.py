"""Due times, elapsed business time and states for many open cases at once.

Used to refresh every open promise of a workspace (the goal: 100,000 cases in
well under two seconds, database read included). It gives the same answers as
`clock.add_business_seconds` / `clock.business_seconds_between` and
`status.evaluate`, case by case.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import numpy.typing as npt

from ventanilla.sla.calendar import BusinessCalendar
from ventanilla.sla.clock import as_utc
from ventanilla.sla.status import DEFAULT_AT_RISK_RATIO, evaluate_many
from ventanilla.sla.timeline import BusinessTimeline

FloatArray = npt.NDArray[np.float64]

# Margin before the earliest start, so that the first open interval is whole.
_LEAD_IN = 86_400.0


def recompute_many(
    calendar: BusinessCalendar,
    starts: npt.ArrayLike,
    targets: npt.ArrayLike,
    paused_seconds: npt.ArrayLike,
    now: datetime,
    *,
    paused_since: npt.ArrayLike | None = None,
    at_risk_ratio: float = DEFAULT_AT_RISK_RATIO,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int8]]:
    """Recompute the open promises of one workspace.

    Per case: `starts` (epoch seconds, UTC) when the clock started, `targets`
    (business seconds promised), `paused_seconds` (business seconds of the
    pauses already closed), and optionally `paused_since` (epoch seconds of
    the open pause, NaN if the clock is running).

    Returns `(due_epoch, elapsed, state_codes)`: the due time in epoch seconds
    (NaN while paused, unless already breached), the business seconds the
    clock has run until `now` (or until the pause began), and `SlaState`
    codes (`SlaState.from_code`).

    `paused_seconds` should only count pauses that began before the due time,
    as `clock.due_at` does: waiting on the customer after a breach does not
    undo it.
    """
    due, elapsed, codes, _risk = _recompute(calendar, starts, targets, paused_seconds, now,
                                            paused_since=paused_since, at_risk_ratio=at_risk_ratio,
                                            thresholds=False)
    return due, elapsed, codes


def recompute_with_thresholds(
    calendar: BusinessCalendar,
    starts: npt.ArrayLike,
    targets: npt.ArrayLike,
    paused_seconds: npt.ArrayLike,
    now: datetime,
    *,
    paused_since: npt.ArrayLike | None = None,
    at_risk_ratio: float = DEFAULT_AT_RISK_RATIO,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int8], FloatArray]:
    """`recompute_many`, plus the instant each running clock reaches `at_risk_ratio` of its target.

    The fourth array is the epoch second at which a clock that is on track now becomes at risk
    (if it keeps running); the bulk pass stores it as the clock's next check. It is computed on
    the same timeline, in the same pass, as the due times (one more `np.searchsorted`).
    """
    return _recompute(calendar, starts, targets, paused_seconds, now,
                      paused_since=paused_since, at_risk_ratio=at_risk_ratio, thresholds=True)


def _recompute(
    calendar: BusinessCalendar,
    starts: npt.ArrayLike,
    targets: npt.ArrayLike,
    paused_seconds: npt.ArrayLike,
    now: datetime,
    *,
    paused_since: npt.ArrayLike | None,
    at_risk_ratio: float,
    thresholds: bool,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int8], FloatArray]:
    start = _column(starts, "starts")
    target = _column(targets, "targets")
    paused = _column(paused_seconds, "paused_seconds")
    if not (start.shape == target.shape == paused.shape):
        raise ValueError("starts, targets and paused_seconds must have the same length")
    if not np.all(np.isfinite(start)):
        raise ValueError("starts must be finite epoch seconds")
    if not np.all(target > 0):
        raise ValueError("targets must be positive business seconds")
    if not np.all(paused >= 0):
        raise ValueError("paused_seconds must not be negative")
    now_epoch = as_utc(now, "now").timestamp()
    clock_stop = np.full(start.shape, now_epoch)
    waiting = np.zeros(start.shape, dtype=np.bool_)
    if paused_since is not None:
        pause_begins = _column(paused_since, "paused_since")
        if pause_begins.shape != start.shape:
            raise ValueError("paused_since must have the same length as starts")
        waiting = ~np.isnan(pause_begins)
        clock_stop = np.where(waiting, np.minimum(pause_begins, now_epoch), now_epoch)
    if not len(start):
        empty = np.empty(0, dtype=np.float64)
        return empty, empty.copy(), np.empty(0, dtype=np.int8), empty.copy()

    timeline = BusinessTimeline.build(
        calendar,
        float(min(start.min(), clock_stop.min())) - _LEAD_IN,
        float(max(start.max(), now_epoch)),
    )
    at_start = timeline.business_seconds_at(start)
    at_stop = timeline.business_seconds_at(np.maximum(clock_stop, start))
    elapsed = np.maximum(at_stop - at_start - paused, 0.0)

    needed = at_start + target + paused
    timeline = timeline.extended(float(needed.max()))
    due = np.maximum(timeline.moments_at(needed), start)
    risk = np.empty(0, dtype=np.float64)
    if thresholds:
        # The at-risk threshold comes before the due time, so the timeline already reaches it.
        risk = np.maximum(timeline.moments_at(at_start + at_risk_ratio * target + paused), start)
        risk = np.where(waiting, np.nan, risk)

    codes = evaluate_many(target, elapsed, at_risk_ratio=at_risk_ratio, paused=waiting)
    due = np.where(waiting & (elapsed < target), np.nan, due)
    return due, elapsed, codes, risk


def _column(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array")
    return array
