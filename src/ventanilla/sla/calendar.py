"""A workspace's business calendar: time zone, weekly opening hours and holidays.

The SLA clock only runs while the desk is open. A calendar says when that is, in
the workspace's own time zone, and turns it into UTC intervals for the clock.
It is plain data (`from_dict` / `to_dict`) so the database can keep it as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A span's end of `time.min` (00:00) means midnight at the end of the day ("24:00"),
# because `datetime.time` cannot say 24:00.
END_OF_DAY = time.min

Span = tuple[time, time]
DayHours = tuple[Span, ...]

OFFICE_DAY: DayHours = ((time(9, 0), time(18, 0)),)
WHOLE_DAY: DayHours = ((time.min, END_OF_DAY),)
ALWAYS_OPEN_TEXT = "24/7"

# About eleven years of days; the memo of UTC spans per day starts over beyond that.
_DAYS_CACHED = 4096


def _seconds_of_day(moment: time, *, is_end: bool) -> int:
    if is_end and moment == END_OF_DAY:
        return 24 * 3600
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _check_day(day_name: str, spans: Sequence[Span]) -> DayHours:
    """Sort a day's spans and reject empty, overnight or overlapping ones."""
    for span in spans:
        if len(span) != 2 or not all(isinstance(moment, time) for moment in span):
            raise ValueError(f"{day_name}: each span is a (start, end) pair of times, got {span!r}")
    ordered = sorted(
        ((start, end) for start, end in spans),
        key=lambda span: _seconds_of_day(span[0], is_end=False),
    )
    previous_end = -1
    for start, end in ordered:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{day_name}: opening hours are local times, without a time zone")
        if start.microsecond or end.microsecond:
            raise ValueError(f"{day_name}: opening hours have at most second precision")
        opens = _seconds_of_day(start, is_end=False)
        closes = _seconds_of_day(end, is_end=True)
        if closes <= opens:
            raise ValueError(
                f"{day_name}: span {start:%H:%M}-{end:%H:%M} does not end after it starts; "
                "split a span that crosses midnight into one span on each day"
            )
        if opens < previous_end:
            raise ValueError(f"{day_name}: spans overlap at {start:%H:%M}")
        previous_end = closes
    return tuple(ordered)


def _parse_time(text: str, *, is_end: bool) -> time:
    if is_end and text == "24:00":
        return END_OF_DAY
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a local time of day (HH:MM): {text!r}") from None


def _format_time(moment: time, *, is_end: bool) -> str:
    if is_end and moment == END_OF_DAY:
        return "24:00"
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


@dataclass(frozen=True)
class BusinessCalendar:
    """When a workspace's desk is open.

    `weekly_hours` has seven entries, Monday first; each is a tuple of
    `(start, end)` local times. An end of 00:00 means midnight at the end of
    that day, so `(00:00, 00:00)` is the whole day. `holidays` are local dates
    on which the desk stays closed all day.
    """

    timezone: str
    weekly_hours: tuple[DayHours, ...] = (OFFICE_DAY,) * 5 + ((), ())
    holidays: frozenset[date] = field(default_factory=frozenset)
    # A memo of `spans_on`, outside equality, hashing and the stored form.
    _spans_by_day: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown IANA time zone: {self.timezone!r}") from None
        if len(self.weekly_hours) != 7:
            raise ValueError("weekly_hours needs seven days, Monday first")
        checked = tuple(
            _check_day(name, spans) for name, spans in zip(WEEKDAYS, self.weekly_hours, strict=True)
        )
        if not any(checked):
            raise ValueError("a business calendar needs at least one opening span in the week")
        object.__setattr__(self, "weekly_hours", checked)
        holidays = frozenset(self.holidays)
        for day in holidays:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"holidays are local dates, got {day!r}")
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def office_hours(
        cls,
        timezone: str,
        holidays: Iterable[date] = (),
        *,
        opens: time = time(9),
        closes: time = time(18),
    ) -> BusinessCalendar:
        """Monday to Friday from `opens` to `closes` (09:00-18:00 by default)."""
        day: DayHours = ((opens, closes),)
        return cls(timezone, (day,) * 5 + ((), ()), frozenset(holidays))

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24/7 desk: business time equals wall-clock time, holidays included."""
        return cls(timezone, (WHOLE_DAY,) * 7, frozenset())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from JSON-style data, as written by `to_dict`.

        `{"timezone": "Europe/Madrid", "hours": {"mon": [["09:00", "18:00"]], ...},
        "holidays": ["2026-12-08"]}`. `hours` may be `"24/7"`; days left out of
        `hours` are closed; without `hours` the desk keeps office hours
        (Monday to Friday, 09:00-18:00).
        """
        unknown = set(data) - {"timezone", "hours", "holidays"}
        if unknown:
            raise ValueError(f"unknown calendar keys: {', '.join(sorted(unknown))}")
        if "timezone" not in data:
            raise ValueError("a business calendar needs a 'timezone' (IANA name)")
        timezone = data["timezone"]
        if not isinstance(timezone, str):
            raise ValueError("'timezone' must be an IANA name such as 'Europe/Madrid'")
        hours = data.get("hours")
        weekly: tuple[DayHours, ...]
        if hours is None:
            weekly = (OFFICE_DAY,) * 5 + ((), ())
        elif hours == ALWAYS_OPEN_TEXT:
            weekly = (WHOLE_DAY,) * 7
        elif isinstance(hours, Mapping):
            bad_days = set(hours) - set(WEEKDAYS)
            if bad_days:
                raise ValueError(f"unknown weekdays in 'hours': {', '.join(sorted(bad_days))}")
            weekly = tuple(_parse_day(name, hours.get(name, ())) for name in WEEKDAYS)
        else:
            raise ValueError("'hours' must be a mapping of weekdays to spans, or '24/7'")
        holidays: set[date] = set()
        for item in data.get("holidays", ()):
            try:
                holidays.add(date.fromisoformat(item))
            except (TypeError, ValueError):
                raise ValueError(f"not a holiday date (YYYY-MM-DD): {item!r}") from None
        return cls(timezone, weekly, frozenset(holidays))

    def to_dict(self) -> dict[str, Any]:
        """The calendar as JSON-ready data; `from_dict(to_dict())` gives it back."""
        return {
            "timezone": self.timezone,
            "hours": {
                name: [
                    [_format_time(start, is_end=False), _format_time(end, is_end=True)]
                    for start, end in spans
                ]
                for name, spans in zip(WEEKDAYS, self.weekly_hours, strict=True)
            },
            "holidays": sorted(day.isoformat() for day in self.holidays),
        }

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone."""
        return ZoneInfo(self.timezone)

    def spans_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The UTC opening intervals of one local date (none on a holiday).

        A local time that the spring DST change skips means the first instant
        after the gap (02:30 on that Sunday in Madrid is 03:00 CEST); a time
        the autumn change repeats means its first occurrence.
        """
        cached = self._spans_by_day.get(day)
        if cached is not None:
            return cached
        spans: list[tuple[datetime, datetime]] = []
        if day not in self.holidays:
            zone = self.zone
            for start, end in self.weekly_hours[day.weekday()]:
                opens = local_to_utc(day, start, zone)
                if end == END_OF_DAY:
                    closes = local_to_utc(day + timedelta(days=1), time.min, zone)
                else:
                    closes = local_to_utc(day, end, zone)
                if closes > opens:
                    spans.append((opens, closes))
        if len(self._spans_by_day) >= _DAYS_CACHED:
            self._spans_by_day.clear()
        self._spans_by_day[day] = result = tuple(spans)
        return result

    def open_intervals(
        self, since: datetime, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """UTC intervals when the desk is open, clipped to `[since, until]`.

        Intervals come sorted and never overlap (touching ones, such as the
        days of a 24/7 calendar, are not merged). Without `until` the sequence
        never ends: a calendar always opens again, as it has at least one span
        a week and finitely many holidays.
        """
        zone = self.zone
        day = since.astimezone(zone).date()
        last_day = None if until is None else until.astimezone(zone).date()
        floor = since
        while last_day is None or day <= last_day:
            for opens, closes in self.spans_on(day):
                opens = max(opens, floor)
                if until is not None:
                    closes = min(closes, until)
                if closes > opens:
                    yield opens, closes
                    floor = closes
            day += timedelta(days=1)


def local_to_utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The UTC instant when the local clock in `zone` reads `moment` on `day`.

    Skipped local times (spring DST gap) give the instant the gap ends;
    repeated ones (autumn) give their first occurrence.
    """
    local = datetime.combine(day, moment, tzinfo=zone)
    after_gap = local.astimezone(UTC)
    if after_gap.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return after_gap
    # Inside a gap: fold=1 reads the wall time with the new offset (before the
    # transition), fold=0 with the old one (after it). Find the transition.
    new_offset = after_gap.astimezone(zone).utcoffset()
    earlier = int(local.replace(fold=1).astimezone(UTC).timestamp())
    later = int(after_gap.timestamp())
    while later - earlier > 1:
        middle = (earlier + later) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == new_offset:
            later = middle
        else:
            earlier = middle
    return datetime.fromtimestamp(later, UTC)


def _parse_day(day_name: str, spans: Any) -> DayHours:
    if not isinstance(spans, Sequence) or isinstance(spans, str):
        raise ValueError(f"{day_name}: expected a list of [start, end] pairs")
    parsed: list[Span] = []
    for span in spans:
        if not isinstance(span, Sequence) or isinstance(span, str) or len(span) != 2:
            raise ValueError(f"{day_name}: each span is a [start, end] pair, got {span!r}")
        parsed.append((_parse_time(span[0], is_end=False), _parse_time(span[1], is_end=True)))
    return tuple(parsed)
