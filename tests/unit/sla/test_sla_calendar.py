"""Business calendars: built from plain data, checked, and turned into UTC intervals."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ventanilla.sla.calendar import BusinessCalendar

MADRID = ZoneInfo("Europe/Madrid")


def test_default_calendar_is_weekday_office_hours() -> None:
    calendar = BusinessCalendar("Europe/Madrid")

    assert calendar == BusinessCalendar.office_hours("Europe/Madrid")
    assert calendar.to_dict()["hours"]["mon"] == [["09:00", "18:00"]]
    assert calendar.to_dict()["hours"]["sat"] == []


def test_round_trip_through_plain_data() -> None:
    data = {
        "timezone": "Europe/Madrid",
        "hours": {
            "mon": [["09:00", "14:00"], ["16:00", "19:00"]],
            "fri": [["08:00", "15:00"]],
            "sat": [["10:00", "24:00"]],
        },
        "holidays": ["2026-12-25", "2026-12-08"],
    }

    calendar = BusinessCalendar.from_dict(data)

    assert calendar.holidays == {date(2026, 12, 8), date(2026, 12, 25)}
    assert calendar.weekly_hours[1] == ()
    assert BusinessCalendar.from_dict(calendar.to_dict()) == calendar
    assert calendar.to_dict()["holidays"] == ["2026-12-08", "2026-12-25"]
    assert calendar.to_dict()["hours"]["sat"] == [["10:00", "24:00"]]


def test_always_open_from_text() -> None:
    calendar = BusinessCalendar.from_dict({"timezone": "UTC", "hours": "24/7"})

    assert calendar == BusinessCalendar.always_open("UTC")
    assert BusinessCalendar.from_dict(calendar.to_dict()) == calendar


def test_calendar_is_hashable_and_spans_are_sorted() -> None:
    late_first = ((time(16), time(19)), (time(9), time(14)))
    calendar = BusinessCalendar("UTC", (late_first,) + ((),) * 6)

    assert calendar.weekly_hours[0] == ((time(9), time(14)), (time(16), time(19)))
    assert hash(calendar) == hash(BusinessCalendar.from_dict(calendar.to_dict()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "24/7"}, "needs a 'timezone'"),
        ({"timezone": "Europe/Madird"}, "unknown IANA time zone"),
        ({"timezone": "UTC", "hours": {"mon": [["18:00", "09:00"]]}}, "crosses midnight"),
        (
            {"timezone": "UTC", "hours": {"mon": [["09:00", "14:00"], ["13:00", "15:00"]]}},
            "overlap",
        ),
        ({"timezone": "UTC", "hours": {}}, "at least one opening span"),
        ({"timezone": "UTC", "hours": {"monday": []}}, "unknown weekdays"),
        ({"timezone": "UTC", "hours": {"mon": [["9h", "18h"]]}}, "HH:MM"),
        ({"timezone": "UTC", "hours": {"mon": ["09:00-18:00"]}}, r"\[start, end\] pair"),
        ({"timezone": "UTC", "holidays": ["25/12/2026"]}, "YYYY-MM-DD"),
        ({"timezone": "UTC", "holiday": []}, "unknown calendar keys: holiday"),
    ],
)
def test_bad_calendar_data_is_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_dict(data)


def test_open_intervals_are_utc_and_skip_holidays() -> None:
    calendar = BusinessCalendar.office_hours("Europe/Madrid", holidays=[date(2026, 12, 8)])
    since = datetime(2026, 12, 7, 12, tzinfo=MADRID)
    until = datetime(2026, 12, 9, 12, tzinfo=MADRID)

    intervals = list(calendar.open_intervals(since, until))

    assert intervals == [
        (datetime(2026, 12, 7, 11, tzinfo=UTC), datetime(2026, 12, 7, 17, tzinfo=UTC)),
        (datetime(2026, 12, 9, 8, tzinfo=UTC), datetime(2026, 12, 9, 11, tzinfo=UTC)),
    ]


def test_opening_inside_the_spring_gap_waits_for_the_gap_to_end() -> None:
    # Sunday 29 March 2026: Madrid clocks jump from 02:00 to 03:00.
    night = ((time(2, 30), time(5)),)
    calendar = BusinessCalendar("Europe/Madrid", ((),) * 6 + (night,))

    [(opens, closes)] = calendar.spans_on(date(2026, 3, 29))

    assert opens.astimezone(MADRID).time() == time(3)
    assert closes - opens == timedelta(hours=2)


def test_python_data_is_checked_too() -> None:
    with pytest.raises(ValueError, match="local dates"):
        BusinessCalendar("UTC", holidays=frozenset({"2026-12-25"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pair of times"):
        BusinessCalendar("UTC", ((("09:00", "18:00"),),) * 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seven days"):
        BusinessCalendar("UTC", ((),) * 5)
