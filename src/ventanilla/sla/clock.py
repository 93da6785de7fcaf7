"""The SLA clock for one case: business time elapsed, and when a promise falls due.

Business time is real time (seconds of UTC) during the calendar's open
intervals, minus pauses (while the case waits on the customer). Every datetime
in and out is timezone-aware; results are UTC. These functions walk the
calendar interval by interval; `recompute.py` does the same sums for many
cases at once with numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from ventanilla.sla.calendar import BusinessCalendar

Pause = tuple[datetime, datetime | None]

# The end of a pause that has not ended: the clock stays stopped from then on.
NEVER = datetime.max.replace(tzinfo=UTC)


def as_utc(moment: datetime, name: str = "datetime") -> datetime:
    """`moment` in UTC; a naive datetime is refused, as its zone is unknowable."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} is naive ({moment.isoformat()}); SLA times must be timezone-aware UTC"
        )
    return moment.astimezone(UTC)


def business_seconds_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Seconds the desk is open from `start` to `end` (0 if `end` is not after `start`)."""
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    if end <= start:
        return 0.0
    total = timedelta()
    for opens, closes in calendar.open_intervals(start, end):
        total += closes - opens
    return total.total_seconds()


def add_business_seconds(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The earliest instant by which `seconds` of business time have passed since `start`.

    A promise of one business hour made on Friday at 17:30 (desk open 09:00-18:00)
    falls due on Monday at 09:30. Zero seconds gives `start` itself.
    """
    start = as_utc(start, "start")
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, got {seconds}")
    due = _walk(calendar.open_intervals(start), start, seconds)
    # A calendar always opens again, so the walk over its endless intervals ends.
    assert due is not None
    return due


def elapsed_business_seconds(
    calendar: BusinessCalendar, start: datetime, now: datetime, pauses: Sequence[Pause] = ()
) -> float:
    """Business seconds the clock has run from `start` to `now`, pauses excluded.

    A pause is `(paused_at, resumed_at)`; `resumed_at` is None while the case
    still waits on the customer. Pauses may overlap and may start before `start`.
    """
    start = as_utc(start, "start")
    now = as_utc(now, "now")
    stops = merged_pauses(pauses, until=now)
    if now <= start:
        return 0.0
    running = business_seconds_between(calendar, start, now)
    for paused_at, resumed_at in stops:
        running -= business_seconds_between(calendar, max(paused_at, start), resumed_at)
    return max(running, 0.0)


def due_at(
    calendar: BusinessCalendar,
    start: datetime,
    target_seconds: float,
    pauses: Sequence[Pause] = (),
) -> datetime | None:
    """When the promise falls due: `target_seconds` of business time after `start`, pauses excluded.

    None while an open pause stops the clock before the due time (the due time
    is unknown until the customer answers). A pause that starts after the due
    time does not move it: the promise was already broken.
    """
    start = as_utc(start, "start")
    if target_seconds < 0:
        raise ValueError(f"target_seconds must not be negative, got {target_seconds}")
    running = _running_intervals(calendar.open_intervals(start), merged_pauses(pauses))
    return _walk(running, start, target_seconds)


def closed_pause_seconds(
    calendar: BusinessCalendar, paused_at: datetime, resumed_at: datetime, due: datetime
) -> float:
    """Business seconds a pause that just ended adds to a promise's `paused_seconds`.

    Zero if the promise was already due when the pause began: waiting on the
    customer after a breach does not undo it. This keeps the running total
    that `recompute_many` takes in step with `due_at`.
    """
    paused_at = as_utc(paused_at, "paused_at")
    resumed_at = as_utc(resumed_at, "resumed_at")
    if resumed_at < paused_at:
        raise ValueError(f"pause ends ({resumed_at}) before it starts ({paused_at})")
    if paused_at >= as_utc(due, "due"):
        return 0.0
    return business_seconds_between(calendar, paused_at, resumed_at)


def merged_pauses(
    pauses: Iterable[Pause], *, until: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """Pauses sorted, overlaps merged, in UTC; an open pause ends at `until` (or never).

    "Never" is `NEVER`. Pauses ending before they start are refused.
    """
    limit = NEVER if until is None else as_utc(until, "until")
    spans: list[tuple[datetime, datetime]] = []
    for paused_at, resumed_at in pauses:
        begins = as_utc(paused_at, "pause start")
        ends = limit if resumed_at is None else as_utc(resumed_at, "pause end")
        if resumed_at is not None and ends < begins:
            raise ValueError(f"pause ends ({ends}) before it starts ({begins})")
        ends = min(ends, limit)
        if ends > begins:
            spans.append((begins, ends))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begins, ends in spans:
        if merged and begins <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
        else:
            merged.append((begins, ends))
    return merged


def _running_intervals(
    open_intervals: Iterator[tuple[datetime, datetime]], pauses: list[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals with the (sorted, merged) pauses cut out.

    Stops for good at a pause that never ends, since the clock will not run again.
    """
    index = 0
    for opens, closes in open_intervals:
        cursor = opens
        while index < len(pauses) and pauses[index][1] <= cursor:
            index += 1
        position = index
        while cursor < closes:
            if position < len(pauses) and pauses[position][0] < closes:
                paused_at, resumed_at = pauses[position]
                if paused_at > cursor:
                    yield cursor, paused_at
                if resumed_at == NEVER:
                    return
                cursor = max(cursor, resumed_at)
                position += 1
            else:
                yield cursor, closes
                cursor = closes


def _walk(
    intervals: Iterator[tuple[datetime, datetime]], start: datetime, seconds: float
) -> datetime | None:
    """The instant inside `intervals` where `seconds` of them have been used up."""
    if seconds <= 0:
        return start
    remaining = timedelta(seconds=seconds)
    for opens, closes in intervals:
        length = closes - opens
        if length >= remaining:
            return opens + remaining
        remaining -= length
    return None
